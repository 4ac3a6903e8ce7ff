import type { Config, Logger } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import type { createRedis } from "@forgehand/queue";

type Redis = ReturnType<typeof createRedis>;

// The CLI wires pieces that land independently (webhook, runner, forge clients, run store).
// They are loaded on demand so a command whose piece is missing says so and exits non-zero,
// while the rest of the CLI keeps working. The import specifiers stay literal so esbuild
// bundles them once they exist (see build.mjs for the not-yet-existing case).

/** A piece of forgehand this build does not contain yet (or contains without the needed export). */
export class NotAvailableError extends Error {
  override name = "NotAvailableError";
}

/** The Hono app surface the CLI needs (fetch handler + mounting). */
export interface HonoLike {
  fetch: (request: Request, ...rest: unknown[]) => Response | Promise<Response>;
  route: (path: string, app: HonoLike) => unknown;
}

/** What `@forgehand/webhook` exports, as far as the CLI uses it. */
export interface WebhookModule {
  createApp(deps: {
    config: Config;
    redis: Redis;
    prefix: string;
    secrets: { github?: string; gitea?: string };
    botLogins: { github?: string; gitea?: string };
    logger: Logger;
    api?: HonoLike;
  }): HonoLike;
  serveNode(app: HonoLike, port: number, hostname?: string): Promise<{ port: number; close(): Promise<void> | void }>;
  createRunsApi?: (deps: { store: RunStoreLike; token?: string }) => HonoLike;
}

/** A runner as `createRunner` returns it. */
export interface RunnerLike {
  start(): Promise<void> | void;
  close(options?: { graceMs?: number }): Promise<void>;
}

/** What `@forgehand/runner` exports, as far as the CLI uses it. */
export interface RunnerModule {
  createRunner(deps: {
    config: Config;
    configDir: string;
    redisUrl: string;
    prefix: string;
    forges: ForgeClients;
    logger: Logger;
    dataDir: string;
    concurrency?: number;
    runnerId?: string;
    env?: Record<string, string | undefined>;
    publicUrl?: string;
  }): RunnerLike;
  stopRun?: (redis: Redis, prefix: string, runId: string, by: string) => Promise<{ found: boolean; state?: string }>;
}

/** The run store from `@forgehand/queue`. */
export interface RunStoreLike {
  get(id: string): Promise<unknown>;
  list(options: { limit: number }): Promise<unknown[]>;
}

function requireExport<T>(mod: Record<string, unknown> | undefined, from: string, names: string[]): T {
  const missing = names.filter((n) => typeof mod?.[n] !== "function");
  if (missing.length)
    throw new NotAvailableError(
      `[cli] ${from} does not provide ${missing.join(", ")} yet (not available in this build)`,
    );
  return mod as T;
}

async function tryImport(load: () => Promise<unknown>, from: string): Promise<Record<string, unknown>> {
  try {
    return (await load()) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      code === "ERR_MODULE_NOT_FOUND" ||
      code === "MODULE_NOT_FOUND" ||
      /Cannot find (module|package)/.test(String(error))
    )
      throw new NotAvailableError(`[cli] ${from} is not available yet in this build`, { cause: error });
    throw error;
  }
}

/** Loads the webhook app factory and Node server helper. */
export async function loadWebhook(): Promise<WebhookModule> {
  // biome-ignore lint/suspicious/noTsIgnore: the package may not exist yet; its shape is checked at run time
  // @ts-ignore
  const mod = await tryImport(() => import("@forgehand/webhook"), "@forgehand/webhook");
  return requireExport<WebhookModule>(mod, "@forgehand/webhook", ["createApp", "serveNode"]);
}

/** Loads the runner factory. */
export async function loadRunner(): Promise<RunnerModule> {
  // biome-ignore lint/suspicious/noTsIgnore: the package may not exist yet; its shape is checked at run time
  // @ts-ignore
  const mod = await tryImport(() => import("@forgehand/runner"), "@forgehand/runner");
  return requireExport<RunnerModule>(mod, "@forgehand/runner", ["createRunner"]);
}

/** Loads `stopRun` from the runner package. */
export async function loadStopRun(): Promise<NonNullable<RunnerModule["stopRun"]>> {
  // biome-ignore lint/suspicious/noTsIgnore: the package may not exist yet; its shape is checked at run time
  // @ts-ignore
  const mod = await tryImport(() => import("@forgehand/runner"), "@forgehand/runner");
  return requireExport<Required<Pick<RunnerModule, "stopRun">>>(mod, "@forgehand/runner", ["stopRun"]).stopRun;
}

/** Creates the forge clients from the environment (GitHub App/token, Gitea URL+token). */
export async function loadForgeClients(env: Record<string, string | undefined>): Promise<ForgeClients> {
  const mod = await tryImport(() => import("@forgehand/forge"), "@forgehand/forge");
  const forge = requireExport<{
    createForgeClients(options: unknown): ForgeClients;
    forgeOptionsFromEnv(env: Record<string, string | undefined>): unknown;
  }>(mod, "@forgehand/forge", ["createForgeClients", "forgeOptionsFromEnv"]);
  return forge.createForgeClients(forge.forgeOptionsFromEnv(env));
}

/** Creates the run store on a Redis connection. */
export async function loadRunStore(redis: Redis, prefix: string): Promise<RunStoreLike> {
  const mod = await tryImport(() => import("@forgehand/queue"), "@forgehand/queue");
  const queue = requireExport<{ createRunStore(redis: Redis, prefix: string): RunStoreLike }>(mod, "@forgehand/queue", [
    "createRunStore",
  ]);
  return queue.createRunStore(redis, prefix);
}
