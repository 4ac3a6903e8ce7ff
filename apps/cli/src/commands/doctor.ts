import { createCliContext } from "../cli-context";
import { checkAgentCredentials } from "../doctor-agent-credentials";
import {
  type CheckResult,
  checkAgents,
  checkConfig,
  checkDataDir,
  checkForges,
  checkGit,
  checkRedis,
} from "../doctor-checks";
import { checkSandbox } from "../doctor-sandbox";
import { checkWebhookUrl } from "../doctor-webhook-url";
import { repoRoot } from "../package-root";
import { parseFlags } from "../parse-flags";

const MARK = { ok: "✓", fail: "✗", skip: "-" } as const;

/** Formats one check as `✓ name  detail`. */
export function formatCheck(result: CheckResult): string {
  return `${MARK[result.status]} ${result.name.padEnd(16)} ${result.detail}`;
}

/** `forgehand doctor`: one line per check; exit 1 when any check fails. */
export async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseFlags("doctor", args, { config: { type: "string" } });
  const ctx = createCliContext();
  const print = (r: CheckResult) => process.stdout.write(`${formatCheck(r)}\n`);
  const all: CheckResult[] = [];
  const emit = (rs: CheckResult[]) => {
    for (const r of rs) {
      all.push(r);
      print(r);
    }
  };
  // Asked at once, in parallel with the rest; printed last.
  const webhookUrl = checkWebhookUrl(ctx.host, ctx.port);
  const { results, loaded } = checkConfig(values.config, ctx.env);
  emit(results);
  emit([await checkRedis(ctx.env, ctx.dataDir)]);
  emit(await checkForges(ctx.env));
  // The forgehand checkout's own node_modules/.bin holds the bundled claude CLI.
  if (loaded) emit(checkAgents(loaded, ctx.env, [process.cwd(), repoRoot()]));
  if (loaded) emit(checkAgentCredentials(loaded, ctx.env));
  else emit([{ name: "agents", status: "fail", detail: "not checked: the config did not load" }]);
  if (loaded) emit(await checkSandbox(loaded));
  emit([await checkGit(ctx.env), checkDataDir(ctx.dataDir), await webhookUrl]);
  const failed = all.filter((r) => r.status === "fail").length;
  process.stdout.write(failed ? `\n${failed} check(s) failed\n` : "\nall checks passed\n");
  return failed ? 1 : 0;
}
