import { describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "./logger";
import { createRedactor } from "./redact";

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

  it("redacts every line it writes when given a redactor, and json lines stay valid JSON", () => {
    const secret = 'p"w-0123456789';
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnz"; // cut off
    for (const format of ["json", "pretty"] as const) {
      const lines: string[] = [];
      const { redact } = createRedactor([secret]);
      const log = createLogger({ level: "info", format, write: (l) => lines.push(l), redact });
      log.child({ url: `redis://:${secret}@h:1` }).error("failed", { detail: `auth ${secret}`, key: pem });
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain("0123456789");
      expect(lines[0]).not.toContain("MIIBOgIBAAJBAKj34");
      expect(lines[0]).toContain("[REDACTED]");
      if (format === "json") expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: "failed" });
    }
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
