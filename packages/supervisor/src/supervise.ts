import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Logger, silentLogger } from "@forgehand/core";
import { execa } from "execa";
import { createClaudeStreamJsonParser } from "./claude-stream-json-parser";
import { DEFAULT_PRICES } from "./estimate-cost-usd";
import { ensureGuardian } from "./guardian";
import { killTree } from "./kill-tree";
import { createLinesParser } from "./lines-parser";
import { pidEntryPath, removePidEntry, writePidEntry } from "./pid-registry";
import { readProc } from "./proc";
import { createRunMeter, type RunMeter } from "./run-meter";
import { createStderrTail } from "./stderr-tail";
import { streamLines } from "./stream-lines";
import type { KillReport, RunEndReason, RunOutcome, SuperviseOptions } from "./types";
import { validateSuperviseOptions } from "./validate-supervise-options";
import { createWatchdog } from "./watchdog";

/** How long (ms) to wait for the agent's pipes to close once every process of the run is gone. */
const PIPE_CLOSE_BOUND_MS = 1000;

/**
 * Runs an agent CLI under the watchdog. Resolves only after every process of the run is verified gone: on a limit
 * or an abort the whole tree is killed (SIGTERM, grace, SIGKILL, verify); on a normal exit the group and the
 * worktree are still swept for leftovers. Until then the run counts as running.
 */
export async function supervise(options: SuperviseOptions): Promise<RunOutcome> {
  validateSuperviseOptions(options);
  const started = performance.now();
  const logger = (options.logger ?? silentLogger).child({ runId: options.runId });
  if (options.signal?.aborted) {
    return emptyOutcome("stopped", `stopped before start: ${reasonText(options.signal.reason)}`, started);
  }
  let promptDir: string | undefined;
  const args = options.command.slice(1);
  if (options.prompt.via === "file") {
    promptDir = await mkdtemp(join(tmpdir(), "forgehand-prompt-"));
    const promptPath = join(promptDir, "prompt.md");
    await writeFile(promptPath, options.prompt.text, { mode: 0o600 });
    args.push(promptPath);
  }
  try {
    return await runAgent(options, args, logger, started);
  } finally {
    if (promptDir) await rm(promptDir, { recursive: true, force: true });
  }
}

async function runAgent(options: SuperviseOptions, args: string[], logger: Logger, started: number) {
  const { cwd, limits, registryDir, runId } = options;
  const meter = createRunMeter(limits, options.prices ?? DEFAULT_PRICES);
  const stderrTail = createStderrTail();
  let reason: RunEndReason | undefined;
  let detail = "";
  // Before the agent exists: if this process dies from here on (even by SIGKILL), the guardian kills the agent.
  if (registryDir) ensureGuardian(registryDir, logger);
  const supervisorStartTime = readProc(process.pid)?.startTime;
  const baseEntry = { runId, cwd: resolve(cwd), supervisorPid: process.pid, supervisorStartTime };
  if (registryDir) {
    // Pending entry (no pid yet) before the spawn: dying between spawn and the full entry below must not leave an
    // agent nobody knows of; the guardian and reapOrphans find it by its cwd.
    try {
      await writePidEntry(registryDir, { ...baseEntry, startedAt: new Date().toISOString() });
    } catch (error) {
      logger.error("could not write the pid registry entry", { path: pidEntryPath(registryDir, runId), error });
      return emptyOutcome("failed", registryFailure(registryDir, error), started);
    }
  }

  const subprocess = execa(options.command[0]!, args, {
    cwd,
    env: options.env,
    extendEnv: false,
    // Own process group (setsid): the whole group can be signalled as `-pid`.
    detached: true,
    buffer: false,
    reject: false,
    cleanup: false,
    stdin: options.prompt.via === "stdin" ? "pipe" : "ignore",
    ...(options.prompt.via === "stdin" ? { input: options.prompt.text } : {}),
  });
  const settled = subprocess.then(
    (result) => result,
    (error: unknown) => error,
  );
  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await settled;
    if (registryDir) await removeEntry(registryDir, runId, logger);
    const raw = result instanceof Error ? result.message : String((result as { message?: unknown }).message);
    const message = raw.replace(/\s*\n\s*/g, "; ");
    return emptyOutcome("failed", `[supervisor] could not start \`${options.command[0]}\`: ${message}`, started);
  }
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    subprocess.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const startTime = readProc(pid)?.startTime;

  let killing: Promise<KillReport> | undefined;
  let markKillDone: () => void = () => {};
  // Either the agent exits, or a kill completes (a root that survives SIGKILL never emits `exit`).
  const killDone = new Promise<undefined>((resolve) => {
    markKillDone = () => resolve(undefined);
  });
  const startKill = () => {
    if (!killing) {
      killing = killTree({ pid, pgid: pid, cwdInside: cwd, startTime }, { graceMs: options.killGraceMs, logger }).catch(
        (error: unknown): KillReport => {
          logger.error("process tree kill failed", { error });
          return {
            killed: [],
            survivors: [{ pid, command: `kill failed: ${String(error)}` }],
            escalated: false,
            durationMs: 0,
          };
        },
      );
      void killing.then(markKillDone);
    }
    return killing;
  };
  const stopFor = (why: RunEndReason, text: string) => {
    if (reason !== undefined) return;
    reason = why;
    detail = text;
    logger.info("stopping agent", { reason: why, detail: text });
    void startKill();
  };

  const watchdog = createWatchdog({ timeoutMs: limits.timeoutMs, stallMs: limits.stallMs, onExpire: stopFor });
  const onAbort = () => stopFor("stopped", `stopped: ${reasonText(options.signal?.reason)}`);
  options.signal?.addEventListener("abort", onAbort, { once: true });

  // Read the pipes before any await: output the agent writes meanwhile must reach the meter (a line
  // printed while the registry write was pending under load was lost, and its cost never counted).
  const stdout = streamLines(subprocess.stdout, createStdoutHandler(options, meter, logger, watchdog.touch, stopFor));
  const stderr = streamLines(subprocess.stderr, (line) => {
    stderrTail.push(line);
    safeCall(logger, () => options.onLog?.("stderr", line));
  });

  if (registryDir) {
    try {
      await writePidEntry(registryDir, {
        ...baseEntry,
        pid,
        pgid: pid,
        startTime,
        startedAt: new Date().toISOString(),
      });
    } catch (error) {
      // The pending entry stays: the agent is still found by its cwd if this process dies before the kill ends.
      logger.error("could not write the pid registry entry", { path: pidEntryPath(registryDir, runId), error });
      stopFor("failed", registryFailure(registryDir, error));
    }
  }

  let exit = await Promise.race([exited, killDone]);
  watchdog.stop();
  options.signal?.removeEventListener("abort", onAbort);
  // Even a clean exit sweeps the group and the worktree: an agent may leave a background child behind.
  const kill = await startKill();
  exit ??= await withTimeout(exited, PIPE_CLOSE_BOUND_MS);
  await Promise.all([stdout.finish(PIPE_CLOSE_BOUND_MS), stderr.finish(PIPE_CLOSE_BOUND_MS)]);
  await withTimeout(settled, PIPE_CLOSE_BOUND_MS);

  const result = meter.result;
  if (reason === undefined) {
    const ok =
      exit?.code === 0 && (options.parser !== "claude-stream-json" || (result !== undefined && !result.isError));
    reason = ok ? "succeeded" : "failed";
    detail = describeExit(exit, options.parser, result);
  }
  const leftovers = kill.killed.filter((p) => p !== pid);
  if (leftovers.length > 0) detail += `; killed ${leftovers.length} leftover process(es)`;
  if (kill.survivors.length > 0) {
    detail += `; SURVIVORS: ${kill.survivors.map((s) => `${s.pid} ${s.command}`).join(", ")}`;
  } else if (registryDir) {
    // Only a verified kill clears the registry: survivors stay listed for orphan reaping.
    await removeEntry(registryDir, runId, logger);
  }
  return {
    reason,
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? null,
    turns: meter.turns,
    costUsd: meter.costUsd,
    sessionId: meter.sessionId,
    resultText: result?.text,
    stderrTail: stderrTail.text(),
    detail,
    kill,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Per stdout line: log it, reset the stall clock, parse it, count it, report progress, check limits. */
function createStdoutHandler(
  options: SuperviseOptions,
  meter: RunMeter,
  logger: Logger,
  touch: () => void,
  stopFor: (why: RunEndReason, text: string) => void,
) {
  let malformed = 0;
  const onMalformed = (line: string, why: string) => {
    // The first few are enough to diagnose a wrong `parser`; the rest are only counted.
    if (++malformed <= 5) logger.warn("malformed agent output line skipped", { why, line: line.slice(0, 200) });
  };
  const parse =
    options.parser === "claude-stream-json" ? createClaudeStreamJsonParser({ onMalformed }) : createLinesParser();
  return function onStdoutLine(line: string) {
    touch();
    safeCall(logger, () => options.onLog?.("stdout", line));
    for (const event of parse(line)) {
      safeCall(logger, () => options.onEvent?.(event));
      const { changed, limit } = meter.apply(event);
      if (changed) {
        const progress = { turns: meter.turns, costUsd: meter.costUsd, sessionId: meter.sessionId };
        safeCall(logger, () => options.onProgress?.({ ...progress, lastEventAt: Date.now() }));
      }
      if (limit) stopFor(limit.reason, limit.detail);
    }
  };
}

function describeExit(
  exit: { code: number | null; signal: string | null } | undefined,
  parser: SuperviseOptions["parser"],
  result: RunMeter["result"],
): string {
  if (!exit) return "agent did not exit";
  if (exit.signal) return `agent killed by signal ${exit.signal}`;
  if (exit.code !== 0) return `agent exited with code ${exit.code}`;
  if (parser !== "claude-stream-json") return "agent exited with code 0";
  if (!result) return "agent exited with code 0 without a result event";
  return result.isError ? `agent reported an error result (${result.subtype ?? "is_error"})` : "agent succeeded";
}

function registryFailure(registryDir: string, error: unknown): string {
  return `[supervisor] could not write pid registry in \`${registryDir}\`: ${String(error)}`;
}

async function removeEntry(registryDir: string, runId: string, logger: Logger): Promise<void> {
  await removePidEntry(registryDir, runId).catch((error: unknown) => {
    logger.warn("could not remove the pid registry entry", { error });
  });
}

function emptyOutcome(reason: RunEndReason, detail: string, started: number): RunOutcome {
  const durationMs = Math.round(performance.now() - started);
  return { reason, exitCode: null, signal: null, turns: 0, costUsd: 0, stderrTail: "", detail, durationMs };
}

/** A throwing callback must not break supervision (the kill and the registry cleanup must still happen). */
function safeCall(logger: Logger, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    logger.warn("supervise callback threw", { error });
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? "aborted" : String(reason);
}

/** `promise`'s value, or undefined after `ms`; the timer is cleared either way. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
