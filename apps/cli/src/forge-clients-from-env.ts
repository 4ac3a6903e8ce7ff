import type { Logger } from "@forgehand/core";
import {
  createForgeClients,
  type ForgeClients,
  forgeOptionsFromEnv,
  resolveBotLogins,
  type WriteBudget,
} from "@forgehand/forge";

/**
 * Forge clients from the environment, with the bot's own login settled once at start-up:
 * FORGEHAND_*_LOGIN when set, else asked from the forge (bounded; a failure is logged with the
 * variable to set and never stops start-up). Without it the webhook would take the bot's own
 * label removals for stop requests and its own comments for commands.
 */
export async function forgeClientsFromEnv(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  /** Told every secret minted at run time (App installation tokens): the process's `redactor.add`. */
  onSecret?: (value: string) => void,
  /** Processes that write to the forge (runners) share one write budget per installation (shared-write-budget.ts). */
  writeBudget?: WriteBudget,
): Promise<ForgeClients> {
  const { options } = await resolveBotLogins(forgeOptionsFromEnv(env), { logger });
  return createForgeClients({ ...options, ...(onSecret ? { onSecret } : {}), ...(writeBudget ? { writeBudget } : {}) });
}
