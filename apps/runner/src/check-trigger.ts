import { type Config, issueKey, type Permission, parseSlashCommands, type Stage } from "@forgehand/core";
import { type createPermissionCache, ForgeApiError, type ForgeClient, type ForgeIssue } from "@forgehand/forge";
import type { StageJob } from "@forgehand/queue";

/** Whether the trigger's sender may start the stage; `reply` is what to tell them when not. */
export type Authorisation = { ok: true } | { ok: false; reason: string; reply: string };

/** Whether the trigger still holds at run start; `issue` is the issue read to find out (reused by the stage). */
export type TriggerState = { ok: true; issue?: ForgeIssue } | { ok: false; reason: string };

const sameLogin = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** The permissions that may start `stage`: its own `allow`, else `commands.allow`. */
export function stageAllow(stage: Stage, config: Config): Permission[] {
  return stage.allow ?? config.commands.allow;
}

/** `write, maintain or admin`. */
function either(perms: Permission[]): string {
  return perms.length < 2 ? (perms[0] ?? "") : `${perms.slice(0, -1).join(", ")} or ${perms.at(-1)}`;
}

/** A forge login fit to @-mention: only the characters logins are made of (the sender's, from a signed delivery). */
function mention(login: string): string {
  return `@${login.replace(/[^A-Za-z0-9._[\]-]/g, "")}`;
}

/**
 * Label triggers are authorised like commands: the sender needs a permission in the stage's
 * `allow` (asked of the forge, cached), or to be in `commands.allowUsers`. The bot's own label
 * additions (the `next` chain) are trusted because the signed delivery names the bot as their sender.
 * Command and retry triggers were authorised against `commands.allow` when the comment was handled;
 * a stage with its own `allow` is checked again here. Operator runs come from the host: trusted.
 */
export async function authoriseTrigger(opts: {
  job: StageJob;
  stage: Stage;
  config: Config;
  forge: ForgeClient;
  botLogin?: string;
  permissions: ReturnType<typeof createPermissionCache>;
}): Promise<Authorisation> {
  const { job, stage, config } = opts;
  const by = job.trigger.by;
  if (job.trigger.kind === "operator") return { ok: true };
  if (job.trigger.kind === "label" && sameLogin(opts.botLogin, by)) return { ok: true };
  if (job.trigger.kind !== "label" && !stage.allow) return { ok: true };
  if (config.commands.allowUsers.some((u) => sameLogin(u, by))) return { ok: true };
  const allow = stageAllow(stage, config);
  const permission = await opts.permissions.get(opts.forge, job.ref.repo, by);
  if (allow.includes(permission)) return { ok: true };
  return {
    ok: false,
    reason: `${by} has ${permission} access; starting stage "${stage.name}" needs ${either(allow)}`,
    reply: `${mention(by)}, only collaborators with ${either(allow)} access can start \`${stage.name}\`.`,
  };
}

/**
 * Whether what asked for the run still asks for it, read from the forge when the run is about to
 * start (a replayed or long-queued delivery is harmless once its label or comment is gone):
 * label runs need the stage label still on the issue; `/run` and `/retry` runs need their comment to
 * exist, unedited, still holding the command. Operator runs, and comments without an id, hold.
 */
export async function triggerStillHolds(job: StageJob, stage: Stage, forge: ForgeClient): Promise<TriggerState> {
  const { trigger, ref } = job;
  if (trigger.kind === "label") {
    const issue = await forge.getIssue(ref).catch((error: unknown) => {
      if (error instanceof ForgeApiError && error.status === 404) return null;
      throw error;
    });
    if (!issue) return { ok: false, reason: `${issueKey(ref)} no longer exists` };
    if (!issue.labels.includes(stage.label))
      return { ok: false, reason: `the label \`${stage.label}\` is no longer on ${issueKey(ref)}` };
    return { ok: true, issue };
  }
  if ((trigger.kind === "command" || trigger.kind === "retry") && trigger.commentId && trigger.commentId > 0) {
    const comment = await forge.getComment(ref.repo, trigger.commentId);
    if (!comment) return { ok: false, reason: `the comment that asked for it (${trigger.commentId}) was deleted` };
    if (comment.createdAt && comment.updatedAt && Date.parse(comment.updatedAt) > Date.parse(comment.createdAt))
      return {
        ok: false,
        reason: `the comment that asked for it (${trigger.commentId}) was edited after it was posted`,
      };
    const wanted = trigger.kind === "retry" ? "retry" : "run";
    if (!parseSlashCommands(comment.body).some((c) => c.name === wanted))
      return { ok: false, reason: `the comment that asked for it (${trigger.commentId}) no longer holds /${wanted}` };
  }
  return { ok: true };
}
