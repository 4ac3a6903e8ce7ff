import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseEnv } from "node:util";

/** What GitHub returns for `POST /app-manifests/{code}/conversions`: the new App and its secrets. */
export interface ManifestConversion {
  id: number;
  slug: string;
  pem: string;
  webhook_secret: string | null;
  html_url?: string;
}

/** Exchanges the one-hour code from the manifest flow's redirect for the App's id, key and secret. */
export async function convertManifestCode(apiUrl: string, code: string): Promise<ManifestConversion> {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(code))
    throw new Error(`[cli] --code does not look like a manifest code: \`${code}\``);
  const url = `${apiUrl.replace(/\/+$/, "")}/app-manifests/${code}/conversions`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new Error(`[cli] POST ${url} failed: ${(error as Error).cause ?? (error as Error).message}`);
  }
  if (!response.ok)
    throw new Error(
      `[cli] GitHub refused the manifest code (${response.status}): codes are single-use and expire after an hour; start over with \`forgehand setup github --url …\``,
    );
  const body = (await response.json()) as Partial<ManifestConversion>;
  if (typeof body.id !== "number" || typeof body.pem !== "string" || typeof body.slug !== "string")
    throw new Error("[cli] GitHub's manifest conversion answer lacks id, slug or pem");
  return { id: body.id, slug: body.slug, pem: body.pem, webhook_secret: body.webhook_secret ?? null };
}

/**
 * Writes the private key (mode 0600) into the data dir and appends the App's settings to the env
 * file (mode 0600). Refuses to append a variable the file already sets, naming it, so a second run
 * never leaves two conflicting App ids.
 */
export function saveAppCredentials(app: ManifestConversion, envFile: string, dataDir: string): { keyPath: string } {
  const existing = existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  const values: Record<string, string> = {
    GITHUB_APP_ID: String(app.id),
    GITHUB_PRIVATE_KEY_PATH: resolve(join(dataDir, `github-app-${app.id}.pem`)),
    FORGEHAND_GITHUB_LOGIN: `${app.slug}[bot]`,
    ...(app.webhook_secret ? { GITHUB_WEBHOOK_SECRET: app.webhook_secret } : {}),
  };
  const clash = Object.keys(values).filter((k) => k in existing);
  if (clash.length)
    throw new Error(
      `[cli] ${envFile} already sets ${clash.join(", ")}: remove those lines (or pass --env-file) and run again`,
    );
  const keyPath = values.GITHUB_PRIVATE_KEY_PATH!;
  mkdirSync(dirname(keyPath), { recursive: true });
  writeFileSync(keyPath, app.pem, { mode: 0o600 });
  const lines = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  const before = existsSync(envFile) ? readFileSync(envFile, "utf8") : "";
  const sep = before && !before.endsWith("\n") ? "\n" : "";
  writeFileSync(envFile, `${before}${sep}# GitHub App ${app.slug} (forgehand setup github)\n${lines.join("\n")}\n`, {
    mode: 0o600,
  });
  chmodSync(envFile, 0o600);
  return { keyPath };
}
