import { describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "./logger";

describe("createLogger", () => {
  it("children add bindings, the level filters, json lines carry everything", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l), bindings: { app: "x" } });
    const child = log.child({ forge: "github" }).child({ deliveryId: "d1" });
    child.debug("dropped");
    child.info("kept", { jobs: 1 });
    log.warn("parent", { error: new Error("boom") });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: "info", msg: "kept", app: "x", forge: "github", deliveryId: "d1", jobs: 1 }),
      expect.objectContaining({ level: "warn", msg: "parent", app: "x", error: { name: "Error", message: "boom" } }),
    ]);
    expect(JSON.parse(lines[1] as string)).not.toHaveProperty("forge");
  });

  it("pretty format writes time, level, message and k=v", () => {
    const lines: string[] = [];
    createLogger({ level: "debug", format: "pretty", write: (l) => lines.push(l) })
      .child({ a: "b" })
      .debug("hello", { n: 2 });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} DEBUG hello a=b n=2$/);
  });

  it("child() of a logger that drops everything is free: the same logger, nothing written", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "silent", write: (l) => lines.push(l) });
    expect(log.child({ forge: "github" })).toBe(log);
    expect(silentLogger.child({ a: 1 }).child({ b: 2 })).toBe(silentLogger);
    log.error("nothing");
    expect(lines).toEqual([]);
  });
});
