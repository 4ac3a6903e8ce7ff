import { readFileSync } from "node:fs";
import { createCliContext } from "../cli-context";
import { parseFlags, UsageError } from "../parse-flags";
import { signDelivery } from "../sign-delivery";

/** `forgehand replay FILE --forge github|gitea --event NAME [--url U]`: sign and post a recorded payload. */
export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("replay", args, {
    forge: { type: "string" },
    event: { type: "string" },
    url: { type: "string" },
  });
  const ctx = createCliContext();
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError(`[cli] forgehand replay takes one FILE, got ${positionals.length}`);
  const forge = values.forge;
  if (forge !== "github" && forge !== "gitea")
    throw new UsageError(`[cli] --forge must be github or gitea, got \`${forge ?? ""}\``);
  if (!values.event) throw new UsageError("[cli] --event NAME is required (e.g. issues, issue_comment, issue_label)");
  const secretVar = forge === "github" ? "GITHUB_WEBHOOK_SECRET" : "GITEA_WEBHOOK_SECRET";
  const secret = ctx.env[secretVar];
  if (!secret)
    throw new UsageError(`[cli] ${secretVar} is unset: replay signs with the same secret the webhook checks`);
  const url = values.url ?? `http://127.0.0.1:${ctx.port}/webhooks/${forge}`;
  if (!URL.canParse(url)) throw new UsageError(`[cli] --url is not a URL: \`${url}\``);
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (error) {
    throw new UsageError(`[cli] cannot read \`${file}\`: ${(error as NodeJS.ErrnoException).code}`);
  }
  const { headers, deliveryId } = signDelivery({ forge, event: values.event, body, secret });
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new Error(`[cli] POST ${url} failed: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const text = await response.text();
  process.stdout.write(`${response.status} ${response.statusText} (delivery ${deliveryId})\n${text}\n`);
  return response.ok ? 0 : 1;
}
