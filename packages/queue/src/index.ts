export * from "./jobs";
export * from "./redis";
export * from "./redis-server";
