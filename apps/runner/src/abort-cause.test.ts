import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@forgehand/core";
import { RunAbortedError, supervise } from "@forgehand/supervisor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AbortCause, abortCauseOf, abortRun } from "./abort-cause";

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "fh-abort-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const stop: AbortCause = { kind: "stop", request: { by: "alice", reason: "command", at: 1 } };

describe("abortRun", () => {
  it("aborts once with a RunAbortedError that carries the first cause", () => {
    const controller = new AbortController();
    expect(abortCauseOf(controller.signal)).toBeUndefined();
    abortRun(controller, { kind: "lease", why: "taken" });
    abortRun(controller, { kind: "shutdown" });
    expect(controller.signal.reason).toBeInstanceOf(RunAbortedError);
    expect(controller.signal.reason).toMatchObject({ kind: "lease", message: "issue lease lost (taken)" });
    expect(abortCauseOf(controller.signal)).toEqual({ kind: "lease", why: "taken" });
  });

  it("names the cause in the supervisor's stopping-agent log line, never [object Object]", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
    const controller = new AbortController();
    const outcome = await supervise({
      command: [process.execPath, "-e", "console.log('ready'); setInterval(() => {}, 1000)"],
      cwd,
      env: {},
      prompt: { via: "stdin", text: "" },
      parser: "lines",
      limits: {},
      killGraceMs: 200,
      runId: "abort-1",
      signal: controller.signal,
      logger,
      onLog: (_stream, line) => {
        if (line === "ready") abortRun(controller, stop);
      },
    });
    const stopping = lines.find((l) => l.msg === "stopping agent");
    expect(outcome.reason).toBe("stopped");
    expect(stopping).toMatchObject({ detail: "stopped: stop requested by alice (command)", cause: "stop" });
    expect(JSON.stringify(lines)).not.toContain("[object Object]");
  });
});
