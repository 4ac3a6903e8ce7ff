export * from "./claude-stream-json-parser";
export * from "./estimate-cost-usd";
export { ensureGuardian, stopGuardian } from "./guardian";
export * from "./kill-tree";
export * from "./lines-parser";
export * from "./pid-registry";
export * from "./reap-orphans";
export * from "./supervise";
export * from "./types";
