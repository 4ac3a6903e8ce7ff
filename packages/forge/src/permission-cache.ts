import type { Config, Permission, RepoRef } from "@forgehand/core";
import type { ForgeClient } from "./forge-client";

/** A short-lived cache of forge permission answers, keyed by forge, repo and login. */
export function createPermissionCache(ttlMs: number, now: () => number = Date.now) {
  const entries = new Map<string, { at: number; value: Promise<Permission> }>();
  return {
    get(forge: ForgeClient, repo: RepoRef, login: string): Promise<Permission> {
      const key = `${forge.forge}:${repo.fullName}:${login.toLowerCase()}`;
      const hit = entries.get(key);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      const value = forge.getPermission(repo, login);
      entries.set(key, { at: now(), value });
      // A failed lookup is not cached: the next command asks again.
      value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key);
      });
      return value;
    },
    clear() {
      entries.clear();
    },
  };
}

/** True when `login` may run slash commands: allowlisted, or its permission is in `commands.allow`. */
export function isAllowed(permission: Permission, config: Config, login: string): boolean {
  const lower = login.toLowerCase();
  if (config.commands.allowUsers.some((u) => u.toLowerCase() === lower)) return true;
  return config.commands.allow.includes(permission);
}

/** GitHub associations that can never hold write access: used only to deny early, never to grant. */
const NO_ACCESS_ASSOCIATIONS = new Set(["NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN"]);

/**
 * Whether GitHub's `author_association` alone proves the sender lacks every allowed
 * permission, so the API need not be asked. Only when `allow` holds nothing that a
 * stranger has on a public repository (`none`, `read`).
 */
export function associationDenies(association: string | undefined, config: Config): boolean {
  if (!association || !NO_ACCESS_ASSOCIATIONS.has(association.toUpperCase())) return false;
  return !config.commands.allow.some((p) => p === "none" || p === "read");
}
