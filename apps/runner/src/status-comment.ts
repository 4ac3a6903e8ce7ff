import { formatDuration, type IssueRef, isTerminal, type Logger, type RunRecord, redactSecrets } from "@forgehand/core";
import type { ForgeClient } from "@forgehand/forge";
import type { StatusSink } from "./ports";

export interface StatusCommentOptions {
  /** Minimum time between two edits while running. */
  intervalMs: number;
  publicUrl?: string;
  logger: Logger;
  now?: () => number;
}

/** The hidden marker that finds a run's comment again. */
export function runMarker(runId: string): string {
  return `<!-- forgehand:run=${runId} -->`;
}

/** A plain status comment body (used until the forge package's reporter is wired in). */
export function renderRunStatus(record: RunRecord, publicUrl?: string, now = Date.now()): string {
  const elapsed = record.startedAt ? formatDuration((record.endedAt ?? now) - record.startedAt) : "—";
  const turns = `${record.turns}${record.maxTurns ? ` / ${record.maxTurns}` : ""}`;
  const cost = `$${record.costUsd.toFixed(2)}${record.budgetUsd ? ` / $${record.budgetUsd.toFixed(2)}` : ""}`;
  const lines = [
    runMarker(record.id),
    `**forgehand** · stage \`${record.stage}\` · **${record.state}**`,
    "",
    `elapsed ${elapsed} · turns ${turns} · cost ${cost} · attempt ${record.attempts}`,
  ];
  if (record.lastActions.length) lines.push("", ...record.lastActions.map((a) => `- ${a.replace(/\n/g, " ")}`));
  if (record.prUrl) lines.push("", `Pull request: ${record.prUrl}`);
  if (record.reason) lines.push("", "```", redactSecrets(record.reason).slice(-1500), "```");
  if (publicUrl) lines.push("", `[log](${publicUrl.replace(/\/$/, "")}/api/runs/${record.id}/log)`);
  if (!isTerminal(record.state)) lines.push("", "Comment `/stop` to stop this run.");
  return lines.join("\n");
}

/** Posts one comment per run (found by marker), edits it at most once per interval, always lands the last state. */
export function createStatusComment(forge: ForgeClient, ref: IssueRef, opts: StatusCommentOptions): StatusSink {
  const now = opts.now ?? Date.now;
  let commentId: number | undefined;
  let lastBody = "";
  let lastAt = 0;
  let pending: RunRecord | undefined;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  async function write(record: RunRecord) {
    const body = renderRunStatus(record, opts.publicUrl, now());
    if (body === lastBody) return;
    try {
      if (commentId === undefined) {
        const found = await forge.findCommentByMarker(ref, runMarker(record.id));
        commentId = found ? found.id : (await forge.createComment(ref, body)).id;
        if (!found) {
          lastBody = body;
          return;
        }
      }
      await forge.updateComment(ref.repo, commentId, body);
      lastBody = body;
    } catch (error) {
      opts.logger.warn("status comment not updated", { runId: record.id, error });
    }
  }

  function flush() {
    timer = undefined;
    const record = pending;
    pending = undefined;
    if (!record) return chain;
    lastAt = now();
    chain = chain.then(() => write(record));
    return chain;
  }

  return {
    update(record) {
      pending = record;
      if (timer) return;
      const wait = Math.max(0, lastAt + opts.intervalMs - now());
      timer = setTimeout(flush, wait);
      timer.unref?.();
    },
    async finish(record) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = record;
      await flush();
    },
  };
}
