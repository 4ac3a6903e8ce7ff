import {
  type Config,
  type IssueRef,
  isTerminal,
  isValidSessionId,
  type Logger,
  type RunRecord,
  redactSecrets,
  type SlashCommand,
} from "@forgehand/core";
import {
  associationDenies,
  type createPermissionCache,
  type ForgeClient,
  isAllowed,
  isWriteDeferred,
  type Reaction,
} from "@forgehand/forge";
import type { CommandJob, Trigger } from "@forgehand/queue";
import { helpText, knownCommands } from "./help-text";

/** What the slash-command handler needs; the runner provides the callbacks. */
export interface CommandDeps {
  config: Config;
  forge: ForgeClient;
  botLogin?: string;
  permissions: ReturnType<typeof createPermissionCache>;
  logger: Logger;
  stop(ref: IssueRef, by: string): Promise<{ runId?: string; wasRunning: boolean }>;
  enqueueStage(ref: IssueRef, stage: string, trigger: Trigger, opts?: { resumeSessionId?: string }): Promise<string>;
  lastRun(ref: IssueRef): Promise<RunRecord | null>;
  refreshStatus(ref: IssueRef): Promise<void>;
}

/** Text from a comment, made safe to quote in inline code in a reply. */
function quote(text: string): string {
  return `\`${text.replace(/[`\r\n]/g, "").slice(0, 60)}\``;
}

function sameLogin(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Outcome of one command: an optional reply line, and whether it did what was asked. */
interface Outcome {
  reply?: string;
  ok: boolean;
}

async function runCommand(cmd: SlashCommand, job: CommandJob, deps: CommandDeps, log: Logger): Promise<Outcome> {
  const { ref, sender } = job;
  const stages = deps.config.stages;
  // The comment id lets the run check, when it starts, that the comment still asks for it (check-trigger.ts).
  const trigger = (kind: Trigger["kind"]): Trigger => ({
    kind,
    by: sender.login,
    deliveryId: job.deliveryId,
    ...(job.commentId > 0 ? { commentId: job.commentId } : {}),
  });
  switch (cmd.name) {
    case "stop": {
      const r = await deps.stop(ref, sender.login);
      if (r.runId || r.wasRunning) return { ok: true };
      return { ok: true, reply: "Nothing is running on this issue." };
    }
    case "retry": {
      const last = await deps.lastRun(ref);
      if (!last) return { ok: false, reply: "There is no earlier run on this issue to retry." };
      if (!isTerminal(last.state))
        return {
          ok: false,
          reply: `Run \`${last.id}\` is still ${last.state}; \`/stop\` it first or wait for it to end.`,
        };
      // The id was reported by the agent's own output: resume only one that cannot be read as a flag.
      const resume = isValidSessionId(last.sessionId);
      if (last.sessionId && !resume)
        log.warn("not resuming: the earlier run's session id is malformed; starting a fresh session", {
          runId: last.id,
        });
      const runId = await deps.enqueueStage(
        ref,
        last.stage,
        trigger("retry"),
        resume ? { resumeSessionId: last.sessionId } : {},
      );
      const how = resume
        ? ", resuming the agent session"
        : last.sessionId
          ? ", in a fresh agent session: the earlier session id is malformed"
          : "";
      return { ok: true, reply: `Retrying stage \`${last.stage}\` (run \`${runId}\`${how}).` };
    }
    case "run": {
      const stage = stages.find((s) => s.name.toLowerCase() === cmd.stage.toLowerCase());
      if (!stage)
        return {
          ok: false,
          reply: `Unknown stage ${quote(cmd.stage)}. Stages: ${stages.map((s) => `\`${s.name}\``).join(", ")}.`,
        };
      await deps.enqueueStage(ref, stage.name, trigger("command"));
      // No reply: 👍 and the run's status comment say it (a reply per `/run` is a content-creating write each,
      // and GitHub allows 80 of those a minute per installation).
      return { ok: true };
    }
    case "status":
      await deps.refreshStatus(ref);
      return { ok: true };
    case "help":
      return { ok: true, reply: helpText(deps.config) };
    case "unknown":
      return { ok: false, reply: `Unknown command ${quote(cmd.raw)}. Commands: ${knownCommands()}.` };
  }
}

/**
 * Carries out the slash commands of one comment: 👀 at once, authorise the sender
 * (forge permission in `commands.allow`, or `commands.allowUsers`), act, reply where
 * there is something to say, then 👍 or 😕. Bots (this one included) are ignored
 * unless allowlisted, so the bot can never answer itself in a loop.
 */
export async function handleCommandJob(job: CommandJob, deps: CommandDeps): Promise<void> {
  const { ref, sender } = job;
  const log = deps.logger.child({
    deliveryId: job.deliveryId,
    issue: ref.number,
    repo: ref.repo.fullName,
    sender: sender.login,
  });
  const allowlisted = deps.config.commands.allowUsers.some((u) => sameLogin(u, sender.login));
  if (!allowlisted && (sameLogin(deps.botLogin, sender.login) || /\[bot\]$/i.test(sender.login))) {
    log.info("ignoring commands from a bot account");
    return;
  }
  const react = async (reaction: Reaction) => {
    if (job.commentId <= 0) return; // e.g. Gitea review comments carry no id
    try {
      // Low priority: a courtesy the status comment repeats. When the installation's writes queue up (a storm of
      // commands), the budget declines it rather than make every run wait behind one reaction per trigger.
      await deps.forge.addReaction(ref.repo, job.commentId, reaction, { priority: "low" });
    } catch (error) {
      if (isWriteDeferred(error)) log.debug("reaction left out: forge writes are queued", { reaction });
      else log.warn("could not react to the command comment", { reaction, error });
    }
  };
  const reply = async (body: string) => {
    try {
      await deps.forge.createComment(ref, `@${sender.login} ${body}`);
    } catch (error) {
      log.warn("could not reply to the command comment", { error });
    }
  };

  await react("eyes");

  let allowed = allowlisted;
  if (!allowed && !associationDenies(sender.authorAssociation, deps.config)) {
    try {
      const permission = await deps.permissions.get(deps.forge, ref.repo, sender.login);
      allowed = isAllowed(permission, deps.config, sender.login);
    } catch (error) {
      log.error("permission check failed", { error });
      await react("confused");
      throw error;
    }
  }
  if (!allowed) {
    log.info("unauthorised command sender");
    await reply(
      `you need one of these permissions on this repository to run forgehand commands: ${deps.config.commands.allow.join(", ")}.`,
    );
    await react("confused");
    return;
  }

  const seen = new Set<string>();
  const lines: string[] = [];
  let ok = true;
  for (const cmd of job.commands) {
    const key = JSON.stringify(cmd);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const outcome = await runCommand(cmd, job, deps, log);
      ok &&= outcome.ok;
      if (outcome.reply) lines.push(outcome.reply);
    } catch (error) {
      ok = false;
      log.error("command failed", { command: cmd.name, error });
      const message = redactSecrets(error instanceof Error ? error.message : String(error)).slice(0, 300);
      lines.push(`\`/${cmd.name}\` failed: ${message.replace(/[`\r\n]/g, " ")}`);
    }
  }
  if (lines.length)
    await reply(lines.length === 1 ? (lines[0] as string) : `\n\n${lines.map((l) => `- ${l}`).join("\n")}`);
  await react(ok ? "+1" : "confused");
}
