export * from "./jobs";
export * from "./lease";
export * from "./redis";
export * from "./redis-server";
export * from "./run-log";
export * from "./run-store";
export * from "./stop-requests";
