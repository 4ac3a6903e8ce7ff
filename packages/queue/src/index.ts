export * from "./jobs";
export * from "./redis";
export * from "./redis-server";
export * from "./stop-requests";
