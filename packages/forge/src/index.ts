export * from "./forge-client";
