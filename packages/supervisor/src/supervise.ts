import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, silentLogger } from "@forgehand/core";
import { createClaudeStreamJsonParser } from "./claude-stream-json-parser";
import { createCodexJsonParser } from "./codex-json-parser";
import { DEFAULT_PRICES } from "./estimate-cost-usd";
import { createGeminiStderrRetryReader } from "./gemini-stderr-retry";
import { createGeminiStreamJsonParser } from "./gemini-stream-json-parser";
import { createKillOnce } from "./kill-once";
import { createLinesParser } from "./lines-parser";
import { modelFromArgv } from "./model-from-argv";
import { type OpenSandbox, openSandbox, sandboxReport } from "./open-sandbox";
import { abortReasonText, RunAbortedError } from "./run-aborted-error";
import { createRunMeter, type RunMeter } from "./run-meter";
import { type RunRegistration, registerRun } from "./run-registration";
import { SANDBOX_RUN_DIR } from "./sandbox/create-sandbox";
import { type ExitStatus, spawnGroup } from "./spawn-group";
import { createStderrTail } from "./stderr-tail";
import { streamLines } from "./stream-lines";
import type { AgentEvent, RunEndReason, RunOutcome, SuperviseOptions } from "./types";
import { validateSuperviseOptions } from "./validate-supervise-options";
import { createWatchdog, type Watchdog } from "./watchdog";
import { withTimeout } from "./with-timeout";

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
    return emptyOutcome("stopped", `stopped before start: ${abortReasonText(options.signal.reason)}`, started);
  }
  let promptDir: string | undefined;
  const args = options.command.slice(1);
  const files: { name: string; content: string }[] = [];
  if (options.prompt.via === "file" && options.sandbox) {
    // Inside the sandbox, in its read-only run dir: the host's /tmp is not visible there.
    files.push({ name: "prompt.md", content: options.prompt.text });
    args.push(`${SANDBOX_RUN_DIR}/prompt.md`);
  } else if (options.prompt.via === "file") {
    promptDir = await mkdtemp(join(tmpdir(), "forgehand-prompt-"));
    const promptPath = join(promptDir, "prompt.md");
    await writeFile(promptPath, options.prompt.text, { mode: 0o600 });
    args.push(promptPath);
  }
  try {
    return await runAgent(options, args, files, logger, started);
  } finally {
    if (promptDir) await rm(promptDir, { recursive: true, force: true });
  }
}

async function runAgent(
  options: SuperviseOptions,
  args: string[],
  files: { name: string; content: string }[],
  logger: Logger,
  started: number,
): Promise<RunOutcome> {
  const log = (line: string) => safeCall(logger, () => options.onLog?.("system", line));
  let box: OpenSandbox | undefined;
  if (options.sandbox) {
    const opened = await openSandbox({
      sandbox: options.sandbox,
      cwd: options.cwd,
      command: [options.command[0]!, ...args],
      env: options.env,
      files,
      log,
    });
    // Fail closed: no sandbox, no agent.
    if ("error" in opened) return emptyOutcome("failed", opened.error, started);
    box = opened;
  }
  try {
    const outcome = await superviseSpawned(options, args, box, logger, started);
    if (!box) return outcome;
    await box.close();
    return {
      ...outcome,
      sandbox: sandboxReport(box.sandbox),
    };
  } finally {
    await box?.close();
  }
}

async function superviseSpawned(
  options: SuperviseOptions,
  args: string[],
  box: OpenSandbox | undefined,
  logger: Logger,
  started: number,
): Promise<RunOutcome> {
  const { cwd, limits, registryDir, runId } = options;
  const meter = createRunMeter(limits, options.prices ?? DEFAULT_PRICES);
  const stderrTail = createStderrTail();
  let reason: RunEndReason | undefined;
  let detail = "";
  let registration: RunRegistration | undefined;
  if (registryDir) {
    try {
      const runCgroup = box?.sandbox.cgroup?.path;
      registration = await registerRun(registryDir, runId, cwd, logger, runCgroup ? { runCgroup } : {});
    } catch (error) {
      return emptyOutcome("failed", (error as Error).message, started);
    }
  }

  const spawned = spawnGroup(box ? box.argv : [options.command[0]!, ...args], {
    cwd,
    // A sandbox gets the agent's env through its init; bwrap itself only a PATH.
    env: box ? box.spawnEnv : options.env,
    ...(options.prompt.via === "stdin" ? { input: options.prompt.text } : {}),
  });
  const { child, pid, startTime } = spawned;
  if (pid === undefined) {
    const { error } = await spawned.exited;
    await registration?.remove();
    const message = String(error?.message ?? error).replace(/\s*\n\s*/g, "; ");
    return emptyOutcome("failed", `[supervisor] could not start \`${options.command[0]}\`: ${message}`, started);
  }

  const killer = createKillOnce(
    { pid, pgid: pid, cwdInside: cwd, startTime },
    {
      graceMs: options.killGraceMs,
      logger,
      ...(box ? { before: () => box.stop(pid, options.killGraceMs, spawned.exited) } : {}),
    },
  );
  const stopFor = (why: RunEndReason, text: string, cause?: string) => {
    if (reason !== undefined) return;
    reason = why;
    detail = text;
    logger.info("stopping agent", { reason: why, detail: text, ...(cause ? { cause } : {}) });
    void killer.kill();
  };

  const watchdog = createWatchdog({ timeoutMs: limits.timeoutMs, stallMs: limits.stallMs, onExpire: stopFor });
  const onAbort = () => {
    const why = options.signal?.reason;
    stopFor("stopped", `stopped: ${abortReasonText(why)}`, why instanceof RunAbortedError ? why.kind : undefined);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const onBudget = () =>
    stopFor("budget_limit", String(options.budgetSignal?.reason ?? "budget limit: a spend cap was reached"));
  options.budgetSignal?.addEventListener("abort", onBudget, { once: true });
  if (options.budgetSignal?.aborted) onBudget();
  // Aborted while the sandbox or the registry was being set up: no event comes any more.
  if (options.signal?.aborted) onAbort();

  // Read the pipes before any await: output the agent writes meanwhile must reach the meter (a line
  // printed while the registry write was pending under load was lost, and its cost never counted).
  const onStdoutLine = createStdoutHandler(options, meter, logger, watchdog, stopFor);
  // Gemini CLI announces its own API retries on stderr only: they reach the events as stdout's do.
  const readStderrRetry = options.parser === "gemini-stream-json" ? createGeminiStderrRetryReader() : undefined;
  const stdout = streamLines(child.stdout, onStdoutLine);
  const stderr = streamLines(child.stderr, (line) => {
    stderrTail.push(line);
    safeCall(logger, () => options.onLog?.("stderr", line));
    if (readStderrRetry) for (const event of readStderrRetry(line)) onStdoutLine.handleEvent(event);
  });

  if (registration) {
    try {
      await registration.recordSpawn(pid, startTime);
    } catch (error) {
      // The pending entry stays: the agent is still found by its cwd if this process dies before the kill ends.
      stopFor("failed", (error as Error).message);
    }
  }

  // Either the agent exits, or a kill completes (a root that survives SIGKILL never emits `exit`).
  let exit: ExitStatus | undefined = await Promise.race([spawned.exited, killer.done.then(() => undefined)]);
  watchdog.stop();
  options.signal?.removeEventListener("abort", onAbort);
  options.budgetSignal?.removeEventListener("abort", onBudget);
  // A clean exit is reported at once (onCleanExit), while the sweep below still runs.
  const clean =
    reason === undefined &&
    exit?.code === 0 &&
    (options.parser === "lines" || (meter.result !== undefined && !meter.result.isError));
  const reported =
    clean && options.onCleanExit
      ? options.onCleanExit(meter.result?.text).catch((error) => logger.warn("onCleanExit failed", { error }))
      : undefined;
  // Even a clean exit sweeps the group and the worktree: an agent may leave a background child behind.
  const kill = await killer.kill();
  await reported;
  exit ??= await withTimeout(spawned.exited, PIPE_CLOSE_BOUND_MS);
  await Promise.all([stdout.finish(PIPE_CLOSE_BOUND_MS), stderr.finish(PIPE_CLOSE_BOUND_MS)]);

  const result = meter.result;
  if (reason === undefined) {
    const ok = exit?.code === 0 && (options.parser === "lines" || (result !== undefined && !result.isError));
    reason = ok ? "succeeded" : "failed";
    detail = describeExit(exit, options.parser, result);
  }
  const leftovers = kill.killed.filter((p) => p !== pid);
  if (leftovers.length > 0) detail += `; killed ${leftovers.length} leftover process(es)`;
  if (kill.survivors.length > 0) {
    detail += `; SURVIVORS: ${kill.survivors.map((s) => `${s.pid} ${s.command}`).join(", ")}`;
  } else {
    // Only a verified kill clears the registry: survivors stay listed for orphan reaping.
    await registration?.remove();
  }
  return {
    reason,
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? null,
    turns: meter.turns,
    costUsd: meter.costUsd,
    ...(meter.costEstimated ? { costEstimated: true } : {}),
    sessionId: meter.sessionId,
    resultText: result?.text,
    ...(meter.apiError ? { apiError: meter.apiError } : {}),
    ...(result?.apiErrorStatus !== undefined ? { apiErrorStatus: result.apiErrorStatus } : {}),
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
  watchdog: Pick<Watchdog, "touch" | "quietFor">,
  stopFor: (why: RunEndReason, text: string) => void,
) {
  let malformed = 0;
  const onMalformed = (line: string, why: string) => {
    // The first few are enough to diagnose a wrong `parser`; the rest are only counted.
    if (++malformed <= 5) logger.warn("malformed agent output line skipped", { why, line: line.slice(0, 200) });
  };
  const parse =
    options.parser === "claude-stream-json"
      ? createClaudeStreamJsonParser({ onMalformed })
      : options.parser === "codex-json"
        ? createCodexJsonParser({
            onMalformed,
            cwd: options.cwd,
            model: options.model ?? modelFromArgv(options.command),
          })
        : options.parser === "gemini-stream-json"
          ? createGeminiStreamJsonParser({ onMalformed, cwd: options.cwd })
          : createLinesParser();
  const handleEvent = (event: AgentEvent) => {
    // The CLI's own retry or rate-limit wait is activity: no stall until the wait it announced is over.
    if (event.type === "api_retry" && event.delayMs !== undefined) watchdog.quietFor(event.delayMs);
    if (event.type === "rate_limit" && event.status === "rejected" && event.resetsAt !== undefined)
      watchdog.quietFor(event.resetsAt - Date.now());
    safeCall(logger, () => options.onEvent?.(event));
    const { changed, limit } = meter.apply(event);
    if (changed) {
      const progress = {
        turns: meter.turns,
        costUsd: meter.costUsd,
        ...(meter.costEstimated ? { costEstimated: true } : {}),
        sessionId: meter.sessionId,
      };
      safeCall(logger, () => options.onProgress?.({ ...progress, lastEventAt: Date.now() }));
    }
    if (limit) stopFor(limit.reason, limit.detail);
  };
  const onStdoutLine = (line: string) => {
    watchdog.touch();
    safeCall(logger, () => options.onLog?.("stdout", line));
    for (const event of parse(line)) handleEvent(event);
  };
  return Object.assign(onStdoutLine, { handleEvent });
}

function describeExit(
  exit: { code: number | null; signal: string | null } | undefined,
  parser: SuperviseOptions["parser"],
  result: RunMeter["result"],
): string {
  if (!exit) return "agent did not exit";
  if (exit.signal) return `agent killed by signal ${exit.signal}`;
  if (exit.code !== 0) return `agent exited with code ${exit.code}`;
  if (parser === "lines") return "agent exited with code 0";
  if (!result) return "agent exited with code 0 without a result event";
  return result.isError ? `agent reported an error result (${result.subtype ?? "is_error"})` : "agent succeeded";
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
