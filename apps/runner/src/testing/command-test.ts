import {
  type Config,
  type IssueRef,
  parseConfig,
  type RunRecord,
  type SlashCommand,
  silentLogger,
} from "@forgehand/core";
import {
  createGiteaClient,
  createGitHubClient,
  createPermissionCache,
  type ForgeClient,
  type WriteBudget,
} from "@forgehand/forge";
import type { CommandJob, Trigger } from "@forgehand/queue";
import { type ForgeEmulator, startForgeEmulator } from "../../../../test/support/forge-emulator";
import { type CommandDeps, handleCommandJob } from "../commands/handle-command-job";

/** A config with stages `analyse` → `develop` for command tests; `extra` adds top-level keys. */
export const commandConfig = (extra: Record<string, unknown> = {}): Config =>
  parseConfig(
    {
      agents: { a: { command: ["echo"] } },
      stages: [
        { name: "analyse", label: "agent:analyse", agent: "a", prompt: "inline:x", next: "develop" },
        { name: "develop", label: "agent:develop", agent: "a", prompt: "inline:y" },
      ],
      ...extra,
    },
    {},
  ).config;

let emu: ForgeEmulator | undefined;

/** Closes the emulator the last `startCommandTest` started; call it in `afterEach`. */
export async function closeCommandTest(): Promise<void> {
  await emu?.close();
  emu = undefined;
}

/**
 * A forge emulator (repo acme/app, issue #3, the bot an admin), a real forge client on it and command
 * deps that record what they were asked; `send` posts a comment as `login` and handles it as a command job.
 */
export async function startCommandTest(
  flavour: "github" | "gitea",
  cfg: Config = commandConfig(),
  /** GitHub only: the client's shared write budget (what `forgehand start` gives an App installation). */
  writeBudget?: WriteBudget,
) {
  await emu?.close();
  emu = await startForgeEmulator({ flavour });
  emu.addRepo("acme/app");
  emu.setPermission("acme/app", "forgehand-bot", "admin");
  emu.addIssue("acme/app", { number: 3, title: "Bug" });
  const forge: ForgeClient =
    flavour === "github"
      ? createGitHubClient({
          apiUrl: emu.apiUrl,
          token: "test-token",
          throttle: false,
          ...(writeBudget ? { writeBudget: { budget: writeBudget, scope: "test" } } : {}),
        })
      : createGiteaClient({ url: emu.url, token: "test-token" });
  const ref: IssueRef = {
    repo: { forge: flavour, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" },
    number: 3,
    isPr: false,
  };
  const calls: {
    stop: string[];
    enqueue: [string, Trigger, { resumeSessionId?: string } | undefined][];
    refresh: number;
  } = {
    stop: [],
    enqueue: [],
    refresh: 0,
  };
  let last: RunRecord | null = null;
  let running = false;
  const deps: CommandDeps = {
    config: cfg,
    forge,
    botLogin: "forgehand-bot",
    permissions: createPermissionCache(60_000),
    logger: silentLogger,
    async stop(_ref, by) {
      calls.stop.push(by);
      return running ? { runId: "r-live", wasRunning: true } : { wasRunning: false };
    },
    async enqueueStage(_ref, stage, trigger, opts) {
      calls.enqueue.push([stage, trigger, opts]);
      return `r-${calls.enqueue.length}`;
    },
    lastRun: async () => last,
    async refreshStatus() {
      calls.refresh++;
    },
  };
  const e = emu;
  const send = async (login: string, body: string, commands: SlashCommand[], association?: string) => {
    e.state.users.add(login);
    const { commentId } = e.commentAsUser("acme/app", 3, login, body);
    const job: CommandJob = {
      kind: "command",
      ref,
      commentId,
      sender: { login, ...(association ? { authorAssociation: association } : {}) },
      commands,
      deliveryId: `d-${commentId}`,
      requestedAt: Date.now(),
    };
    await handleCommandJob(job, deps);
    return commentId;
  };
  const repoState = () => e.state.repos.get("acme/app")!;
  const reactionsOn = (id: number) =>
    repoState()
      .reactions.filter((r) => r.commentId === id)
      .map((r) => r.content);
  const botReplies = () =>
    repoState()
      .comments.filter((c) => c.author === "forgehand-bot")
      .map((c) => c.body);
  return {
    emu: e,
    deps,
    calls,
    send,
    reactionsOn,
    botReplies,
    setLast: (r: RunRecord | null) => {
      last = r;
    },
    setRunning: (v: boolean) => {
      running = v;
    },
  };
}

/** A failed `develop` run with a session to resume. */
export const lastRun: RunRecord = {
  id: "r-old",
  forge: "github",
  repo: "acme/app",
  issue: 3,
  isPr: false,
  stage: "develop",
  state: "failed",
  createdAt: 1,
  turns: 3,
  costUsd: 0.1,
  attempts: 1,
  sessionId: "sess-0042",
  lastActions: [],
};
