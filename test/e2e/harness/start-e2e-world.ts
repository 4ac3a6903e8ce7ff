import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunRecord } from "@forgehand/core";
import { freePort } from "@forgehand/queue";
import { type BareOrigin, createBareOrigin } from "../../helpers/bare-origin";
import { waitFor } from "../../helpers/wait-for";
import { type EmulatedDelivery, type ForgeEmulator, startForgeEmulator } from "../../support/forge-emulator";
import { type ModelServer, type Script, startModelServer } from "../../support/model-server";
import { DEVELOP_STAGE, type E2eConfigExtras, type E2eStage, writeE2eConfig } from "./e2e-config";
import { type ForgehandProcess, startForgehand } from "./forgehand-process";
import { processesUnder, type ScannedProcess } from "./process-scan";

export const REPO = "acme/widgets";
const SECRET = "e2e-webhook-secret";
const API_TOKEN = "e2e-api-token";
/** Forge tokens: the bot's, the repo owner's (admin), a collaborator's (write) and an outsider's (read). */
export const TOKENS = {
  "bot-token": "forgehand-bot",
  "acme-token": "acme",
  "alice-token": "alice",
  "mallory-token": "mallory",
} as const;
type User = "acme" | "alice" | "mallory";

/** Options for {@link startE2eWorld}. */
export interface E2eWorldOptions {
  script: Script;
  /** Which forge the emulator plays; @defaultValue "github" */
  forge?: "github" | "gitea";
  stages?: E2eStage[];
  config?: E2eConfigExtras;
  /** Redis for forgehand; without it `forgehand start` runs its embedded redis-server (the demo does). */
  redisUrl?: string;
  /** Redis key prefix; @defaultValue "forgehand" */
  prefix?: string;
  /** forgehand's LOG_LEVEL; @defaultValue E2E_LOG_LEVEL or "debug" */
  logLevel?: string;
  /**
   * How forgehand learns the bot's own login: `env` sets FORGEHAND_*_LOGIN as a deployment may;
   * `discover` leaves it unset so forgehand must ask the forge (`GET /user`). @defaultValue "env"
   */
  botLogin?: "env" | "discover";
  /** Sets `status.publicUrl` to forgehand's own URL, so status comments link the signed run page. */
  linkRunPages?: boolean;
}

/** Everything one scenario runs against: real forgehand process, emulated forge, bare origin, scripted model. */
export interface E2eWorld {
  dir: string;
  emulator: ForgeEmulator;
  model: ModelServer;
  origin: BareOrigin;
  forgehand: ForgehandProcess;
  /** Opens an issue on the emulated forge (no delivery: issues.opened routes nowhere in these scenarios). */
  openIssue(title: string, body?: string): number;
  /** A user adds a label through the forge API, which sends the signed `issues.labeled` delivery. */
  addLabel(issue: number, label: string, as?: User): Promise<void>;
  /** A user comments through the forge API, which sends the signed `issue_comment.created` delivery. */
  comment(issue: number, body: string, as?: User): Promise<void>;
  /** Posts an earlier delivery again with the same delivery id and signature, as a forge redelivery does. */
  redeliver(delivery: EmulatedDelivery): Promise<{ status: number; body: unknown }>;
  /** Comment bodies on an issue, oldest first. */
  comments(issue: number): Array<{ author: string; body: string }>;
  /** The bot's status comment for an issue (the one with the run marker), latest first. */
  statusComments(issue: number): string[];
  labels(issue: number): string[];
  /** Run records from forgehand's own `GET /api/runs` (bearer FORGEHAND_API_TOKEN), newest first. */
  runs(): Promise<RunRecord[]>;
  /** One run's log as text, from forgehand's `GET /api/runs/:id/log`. */
  runLog(runId: string): Promise<string>;
  /** Agent/git processes still alive under the world's directory. */
  survivors(): ScannedProcess[];
  /**
   * Stops this forgehand process and starts another runner in its place: same Redis and prefix, same port (the
   * forge's webhook URL), but its own data dir and HOME (`<dir>/data-<name>`, `<dir>/home-<name>`), as a second
   * machine would have. Needs `redisUrl` (an embedded Redis would stop with the first process).
   */
  replaceRunner(name: string): Promise<void>;
  /** A readable dump for a failed scenario: deliveries, model requests, forge calls, forgehand's log tail. */
  diagnose(): string;
  close(): Promise<void>;
}

/** Starts a complete local forgehand setup for one scenario. */
export async function startE2eWorld(options: E2eWorldOptions): Promise<E2eWorld> {
  const dir = mkdtempSync(join(tmpdir(), "fh-e2e-"));
  const home = join(dir, "home");
  mkdirSync(home);
  // E2E_KEEP=1 keeps the directory (forgehand.log, origin, worktrees) for a post-mortem.
  const cleanups: Array<() => Promise<unknown> | unknown> = [
    () => (process.env.E2E_KEEP ? undefined : rmSync(dir, { recursive: true, force: true })),
  ];
  const close = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const prefix = options.prefix ?? "forgehand";
    const model = await startModelServer({ script: options.script });
    cleanups.push(() => model.close());
    const origin = createBareOrigin(dir);
    const port = await freePort();
    const forge = options.forge ?? "github";
    const emulator = await startForgeEmulator({
      flavour: forge,
      tokens: { ...TOKENS },
      webhooks: { url: `http://127.0.0.1:${port}/webhooks/${forge}`, secret: SECRET },
      // The clone URL `<url>/acme/widgets.git` is served over smart HTTP from the bare origin, behind the
      // token: forgehand clones and pushes for real, with the forge's credentials, on the forge's host.
      gitRepos: { [REPO]: origin.path },
    });
    cleanups.push(() => emulator.close());
    // Gitea ignores labels that don't exist in the repository, so every stage label is created up front.
    const stageLabels = (options.stages ?? [DEVELOP_STAGE]).map((stage) => stage.label);
    emulator.addRepo(REPO, { labels: ["forgehand:failed", ...stageLabels] });
    emulator.setPermission(REPO, "alice", "write");
    emulator.setPermission(REPO, "mallory", "read");
    // Gitea answers the permission check only to repo admins (docs/FORGES.md §3.2); label triggers
    // are authorised through it, so the bot account is an admin here as a deployment's must be.
    if (forge === "gitea") emulator.setPermission(REPO, TOKENS["bot-token"] as string, "admin");
    // forgehand's own git reads no global config; this one is for the agents and gates of the scenario.
    writeFileSync(join(home, ".gitconfig"), "[user]\n\tname = e2e\n\temail = e2e@example.test\n");
    // Safety net for a failed scenario: whatever still runs under the world's directory once forgehand has
    // stopped (an agent forgehand failed to kill) is killed by pid, so one failure can't leak into the next.
    cleanups.push(() => {
      for (const p of processesUnder(dir)) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
    });
    const extras = options.linkRunPages
      ? { ...options.config, status: { publicUrl: `http://127.0.0.1:${port}`, ...options.config?.status } }
      : options.config;
    const configPath = writeE2eConfig(dir, model.url, options.stages, extras);
    const launch = (runnerHome: string, dataDir: string, logFile: string) =>
      startForgehand({
        args: ["start", "--config", configPath],
        port,
        cwd: dir,
        logFile,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: runnerHome,
          PORT: String(port),
          ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
          FORGEHAND_PREFIX: prefix,
          FORGEHAND_DATA_DIR: dataDir,
          LOG_LEVEL: options.logLevel ?? process.env.E2E_LOG_LEVEL ?? "debug",
          ...(forge === "github"
            ? {
                GITHUB_TOKEN: "bot-token",
                GITHUB_API_URL: emulator.apiUrl,
                GITHUB_WEBHOOK_SECRET: SECRET,
                // The bot's login, as a deployment sets it: forgehand must not read its own comments as commands.
                ...(options.botLogin === "discover" ? {} : { FORGEHAND_GITHUB_LOGIN: TOKENS["bot-token"] }),
              }
            : {
                GITEA_URL: emulator.url,
                GITEA_TOKEN: "bot-token",
                GITEA_WEBHOOK_SECRET: SECRET,
                ...(options.botLogin === "discover" ? {} : { FORGEHAND_GITEA_LOGIN: TOKENS["bot-token"] }),
              }),
          FORGEHAND_API_TOKEN: API_TOKEN,
        },
      });
    let forgehand = await launch(home, join(dir, "data"), join(dir, "forgehand.log"));
    cleanups.push(() => forgehand.stop());

    const repo = () => emulator.state.repos.get(REPO)!;
    const api = async (user: User, method: string, path: string, body: unknown) => {
      const res = await fetch(`${emulator.apiUrl}${path}`, {
        method,
        headers: { authorization: `token ${user}-token`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`[e2e] ${method} ${path} as ${user} → ${res.status} ${await res.text()}`);
    };
    return {
      dir,
      emulator,
      model,
      origin,
      get forgehand() {
        return forgehand;
      },
      async replaceRunner(name) {
        if (!options.redisUrl) throw new Error("[e2e] replaceRunner() needs a shared redisUrl");
        await forgehand.stop();
        const runnerHome = join(dir, `home-${name}`);
        mkdirSync(runnerHome);
        writeFileSync(join(runnerHome, ".gitconfig"), "[user]\n\tname = e2e\n\temail = e2e@example.test\n");
        forgehand = await launch(runnerHome, join(dir, `data-${name}`), join(dir, `forgehand-${name}.log`));
      },
      openIssue: (title, body = "") => emulator.addIssue(REPO, { title, body, author: "alice" }),
      addLabel: (issue, label, as = "alice") =>
        api(as, "POST", `/repos/${REPO}/issues/${issue}/labels`, { labels: [label] }),
      comment: (issue, body, as = "alice") => api(as, "POST", `/repos/${REPO}/issues/${issue}/comments`, { body }),
      async redeliver(delivery) {
        if (forge !== "github") throw new Error(`[e2e] redeliver() speaks GitHub's headers only, not ${forge}`);
        const body = JSON.stringify(delivery.payload);
        const res = await fetch(`${forgehand.url}/webhooks/github`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": delivery.event,
            "x-github-delivery": delivery.id,
            "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
          },
          body,
        });
        return { status: res.status, body: await res.json().catch(() => undefined) };
      },
      comments: (issue) =>
        repo()
          .comments.filter((c) => c.issue === issue)
          .map((c) => ({ author: c.author, body: c.body })),
      statusComments: (issue) =>
        repo()
          .comments.filter((c) => c.issue === issue && c.body.includes("<!-- forgehand:run="))
          .map((c) => c.body)
          .reverse(),
      labels: (issue) => [...(repo().issues.get(issue)?.labels ?? [])],
      async runs() {
        const res = await fetch(`${forgehand.url}/api/runs?limit=100`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        if (!res.ok) throw new Error(`[e2e] GET /api/runs → ${res.status} ${await res.text()}`);
        return ((await res.json()) as { runs: RunRecord[] }).runs;
      },
      async runLog(runId) {
        const res = await fetch(`${forgehand.url}/api/runs/${runId}/log`, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        if (!res.ok) throw new Error(`[e2e] GET /api/runs/${runId}/log → ${res.status} ${await res.text()}`);
        return await res.text();
      },
      diagnose: () =>
        [
          `dir: ${dir}`,
          `deliveries: ${emulator.deliveries.map((d) => `${d.event}.${(d.payload as { action?: string }).action}→${d.status ?? d.error}`).join(", ")}`,
          `model requests: ${model.requests.map((r) => r.kind).join(", ")}`,
          `forge calls: ${emulator.calls.map((c) => `${c.method} ${c.path} ${c.status}`).join("\n  ")}`,
          `forgehand log (tail):\n${forgehand.log().slice(-6000)}`,
        ].join("\n"),
      // forgehand itself and tsx's esbuild service (it runs the TS sources) live as long as the process does.
      survivors: () =>
        processesUnder(dir).filter((p) => p.pid !== forgehand.child.pid && !p.cmdline.includes("esbuild --service")),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export { waitFor };
