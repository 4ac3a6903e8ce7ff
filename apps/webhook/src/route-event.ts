import {
  type Config,
  type ForgeEvent,
  type IssueRef,
  issueKey,
  parseSlashCommands,
  stageForLabel,
} from "@forgehand/core";
import {
  type CommandJob,
  capText,
  diffLabelSets,
  ISSUE_BODY_MAX,
  ISSUE_TITLE_MAX,
  runIdFor,
  type StageJob,
  type StopRequest,
} from "@forgehand/queue";

/** What routing needs besides the event. */
export interface RouteContext {
  config: Config;
  botLogins: { github?: string; gitea?: string };
  /** Gitea label events: the stored stage-label set of the issue (`null`: never seen). */
  storedLabels?: string[] | null;
  /** `pull_request.closed`: the issue (`issueKey`) forgehand opened this PR for, if it did (pr-issues.ts). */
  prForIssue?: string;
  /** Clock, injectable for tests. */
  now: number;
}

/** The work one delivery asks for; `ignored` says why there is none. */
export interface Route {
  ignored?: string;
  issue?: string;
  stageJobs: StageJob[];
  commandJob?: CommandJob;
  stops: StopRequest[];
  /** Gitea: the issue's stage-label set to store, when it changed. */
  labelSet?: string[];
}

const ignore = (reason: string): Route => ({ ignored: reason, stageJobs: [], stops: [] });

/** Gitea events whose `labels` must be diffed: label changes, and `opened` (labels set at creation fire no label event, go-gitea/gitea#14352). */
export function needsLabelDiff(event: Pick<ForgeEvent, "forge" | "event" | "action">): boolean {
  return (
    event.forge === "gitea" &&
    (event.event === "issues" || event.event === "pull_request") &&
    ["label_updated", "label_cleared", "opened", "reopened"].includes(event.action ?? "")
  );
}

/** Whether `repos:` (absent: every repository) lets forgehand act on `fullName`: `owner/name` or `owner/*`, case-insensitive. */
export function repoAllowed(config: Config, fullName: string): boolean {
  if (!config.repos) return true;
  const [owner = "", name = ""] = fullName.toLowerCase().split("/");
  return config.repos.some((entry) => {
    const [o, n] = entry.toLowerCase().split("/");
    return o === owner && (n === "*" || n === name);
  });
}

/** `self`: forgehand's own account; `bot`: another bot not allowlisted in `commands.allowUsers`. */
function senderKind(event: ForgeEvent, ctx: RouteContext): "self" | "bot" | "human" {
  const login = event.sender?.login;
  const bot = ctx.botLogins[event.forge];
  if (login && bot && login.toLowerCase() === bot.toLowerCase()) return "self";
  if (event.sender?.isBot && !ctx.config.commands.allowUsers.includes(login ?? "")) return "bot";
  return "human";
}

/**
 * Decides what one normalised delivery asks for. Pure: Redis reads (the stored label set)
 * happen before, writes after. The bot's own label *additions* still start stages, because the
 * runner chains stages by adding the next stage's label (SPEC "Labels and stages"); everything
 * else the bot causes (its comments, its label removals) is ignored so it can never loop.
 */
export function routeEvent(event: ForgeEvent, ctx: RouteContext): Route {
  if (event.event === "ping") return ignore("ping");
  if (!event.repo || !event.issue) return ignore(`event \`${event.event}\` routes nowhere`);
  if (!repoAllowed(ctx.config, event.repo.fullName))
    return ignore(`repository \`${event.repo.fullName}\` is not in \`repos\``);
  const kind = senderKind(event, ctx);
  if (kind === "bot") return ignore(`sender \`${event.sender?.login}\` is a bot`);
  const ref: IssueRef = {
    repo: event.repo,
    number: event.issue.number,
    isPr: event.issue.isPr,
    ...(event.installationId !== undefined ? { installationId: event.installationId } : {}),
  };
  const issue = issueKey(ref);
  const shown = event.issue;
  const by = event.sender?.login ?? "unknown";
  // A removed stage label stops only that stage's runs (`stage`); closing stops every run on the issue.
  const stop = (reason: StopRequest["reason"], stage?: string): StopRequest => ({
    issue,
    by,
    reason,
    at: ctx.now,
    ...(stage ? { stage } : {}),
  });
  const stageJob = (stage: string, stops: number): StageJob => ({
    kind: "stage",
    runId: runIdFor(event.forge, event.deliveryId, stage, issue),
    ref,
    stage,
    trigger: { kind: "label", by, deliveryId: event.deliveryId },
    // What the labeller saw: an edit made after the label is not what the agent is asked to do.
    issueAtTrigger: { title: capText(shown.title, ISSUE_TITLE_MAX), body: capText(shown.body, ISSUE_BODY_MAX) },
    // Strictly after any stop in the same delivery, so that stop never cancels this job.
    requestedAt: ctx.now + (stops > 0 ? 1 : 0),
  });
  const what = `${event.event}.${event.action ?? "?"}`;

  if (event.event === "issue_comment") {
    if (kind === "self") return ignore("comment by forgehand itself");
    if (event.action !== "created" || !event.comment) return ignore(`${what} routes nowhere`);
    const commands = parseSlashCommands(event.comment.body);
    // Only unknown `/words` (e.g. `/cc`, `/lgtm` for other bots) are not worth a reply.
    if (!commands.some((c) => c.name !== "unknown")) return ignore("comment has no slash command");
    const commandJob: CommandJob = {
      kind: "command",
      ref,
      commentId: event.comment.id,
      sender: {
        login: by,
        ...(event.comment.authorAssociation ? { authorAssociation: event.comment.authorAssociation } : {}),
      },
      commands,
      deliveryId: event.deliveryId,
      requestedAt: ctx.now,
    };
    return { issue, stageJobs: [], commandJob, stops: [] };
  }

  if (event.action === "closed") {
    if (kind === "self") return ignore("closed by forgehand itself");
    const reason = event.issue.isPr ? (event.issue.merged ? "pr_merged" : "pr_closed") : "issue_closed";
    // The PR's own runs, and the run on the issue forgehand opened it for.
    const forIssue = ctx.prForIssue && ctx.prForIssue !== issue ? [{ ...stop(reason), issue: ctx.prForIssue }] : [];
    return { issue, stageJobs: [], stops: [stop(reason), ...forIssue] };
  }

  if (event.label) {
    const stage = stageForLabel(ctx.config, event.label.name);
    if (!stage) return ignore(`label \`${event.label.name}\` is not a stage label`);
    if (event.label.change === "added") return { issue, stageJobs: [stageJob(stage.name, 0)], stops: [] };
    if (kind === "self") return ignore("label removed by forgehand itself");
    return { issue, stageJobs: [], stops: [stop("label_removed", stage.name)] };
  }

  if (needsLabelDiff(event)) {
    const present = event.action === "label_cleared" ? [] : event.issue.labels;
    const stageLabels = present.filter((l) => stageForLabel(ctx.config, l));
    const diff = diffLabelSets(ctx.storedLabels ?? null, stageLabels);
    const changed = diff.added.length > 0 || diff.removed.length > 0;
    if (!changed) return ignore("no stage label changed");
    const stops =
      kind === "self" ? [] : diff.removed.map((label) => stop("label_removed", stageForLabel(ctx.config, label)?.name));
    const stageJobs = diff.added.map((label) => stageJob(stageForLabel(ctx.config, label)!.name, stops.length));
    return {
      ...(stageJobs.length + stops.length === 0 ? { ignored: "stage label removed by forgehand itself" } : {}),
      issue,
      stageJobs,
      stops,
      labelSet: stageLabels,
    };
  }
  return ignore(`${what} routes nowhere`);
}
