/**
 * `npm run demo`: the whole forgehand loop on this machine, narrated — LOCAL DEMO ONLY.
 * An emulated GitHub, a scripted model behind the real Claude Code CLI, a bare git origin, and the real
 * `forgehand start` process with its embedded Redis. `npm start` is the real bot; this touches no network.
 */
import { plainText } from "../e2e/harness/plain-text";
import { type E2eWorld, startE2eWorld } from "../e2e/harness/start-e2e-world";
import { demoScript } from "./demo-script";
import { createNarrator } from "./narrator";

const say = createNarrator();
const LIMIT_MS = 60_000;
const LOG_STEPS: Record<string, (line: Record<string, unknown>) => string | undefined> = {
  "workspace prepared": (l) => `worktree ready on branch ${l.branch} (${l.ms} ms)`,
  "branch pushed": (l) => `commit pushed to origin: ${l.branch}`,
  "stage succeeded": (l) => `stage ${l.stage} succeeded${l.prUrl ? ` → ${l.prUrl}` : ""}`,
  "run ended": (l) => `run ${l.runId} ended: ${l.state}`,
};

async function main(): Promise<number> {
  say.banner([
    "forgehand — LOCAL DEMO (nothing leaves this machine)",
    "emulated GitHub · scripted model · real Claude Code CLI · real git · embedded Redis",
    "`npm start` runs the real bot; this is only a demonstration.",
  ]);
  let world: E2eWorld | undefined;
  const deadline = setTimeout(() => {
    say.fail(`the demo did not finish within ${LIMIT_MS / 1000}s`);
    void world?.close().finally(() => process.exit(1));
  }, LIMIT_MS);
  try {
    say.step("starting: model server, GitHub emulator, bare origin, `forgehand start` (embedded Redis)…");
    world = await startE2eWorld({
      script: demoScript((what) => say.detail(what)),
      logLevel: "info",
    });
    const w = world;
    say.ok(`forgehand is up at ${w.forgehand.url}  (GitHub emulator ${w.emulator.url}, model ${w.model.url})`);

    const issue = w.openIssue("Add a greeting", "Please add hello.txt that greets people.");
    say.step(`alice opened acme/widgets#${issue} "Add a greeting" and adds the label agent:develop`);
    await w.addLabel(issue, "agent:develop");
    await w.emulator.deliveriesSettled();
    say.step(
      `GitHub → forgehand: signed issues.labeled delivery → HTTP ${w.emulator.deliveries[0]?.status} (job queued)`,
    );

    const outcome = await follow(w, issue);
    clearTimeout(deadline);
    const final = w.statusComments(issue)[0] ?? "(no status comment)";
    say.block(`Final status comment on acme/widgets#${issue}:`, final.replace(/<!--[\s\S]*?-->\n?/, "").trim());
    const pull = w.emulator.state.repos.get("acme/widgets")?.pulls[0];
    if (pull) say.ok(`pull request #${pull.number} "${pull.title}" (${pull.head} → ${pull.base})`);
    const branch = pull?.head;
    if (branch)
      say.block(`origin ${branch}:`, w.origin.git("log", "-1", "--stat", "--format=%h %s%n%an <%ae>", branch));
    if (outcome === "succeeded")
      say.ok(`done in ${(say.elapsedMs() / 1000).toFixed(1)}s — label → agent → commit → PR → comment`);
    else say.fail(`the run ended ${outcome}; see ${w.forgehand.logFile}`);
    return outcome === "succeeded" ? 0 : 1;
  } catch (error) {
    say.fail(error instanceof Error ? error.message : String(error));
    if (world) say.block("diagnostics", world.diagnose());
    return 1;
  } finally {
    clearTimeout(deadline);
    say.detail("shutting down forgehand, its Redis, the emulator and the model server…");
    await world?.close();
  }
}

/** Narrates deliveries, forgehand's log and the status comment until the run ends; resolves with its state. */
async function follow(w: E2eWorld, issue: number): Promise<string> {
  let offset = 0;
  let shownDeliveries = 1;
  let lastStatus = "";
  for (;;) {
    for (const d of w.emulator.deliveries.slice(shownDeliveries)) {
      if (d.status === undefined && !d.error) break;
      shownDeliveries++;
      say.detail(`GitHub → forgehand: ${describeDelivery(d)} → HTTP ${d.status ?? d.error}`);
    }
    const fresh = w.forgehand.log().slice(offset);
    const complete = fresh.lastIndexOf("\n") + 1;
    offset += complete;
    for (const raw of fresh.slice(0, complete).split("\n")) {
      const line = parseLine(raw);
      const text = line && LOG_STEPS[String(line.msg)]?.(line);
      if (text) say.step(text);
      if (line?.msg === "run ended") return String(line.state);
    }
    const comment = w.statusComments(issue)[0];
    const status = comment ? summariseStatus(comment) : "";
    if (status && status !== lastStatus) {
      lastStatus = status;
      say.detail(`status comment on #${issue}: ${status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function parseLine(raw: string): Record<string, unknown> | undefined {
  try {
    return raw.trim() ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function describeDelivery(d: { event: string; payload: unknown }): string {
  const p = d.payload as { action?: string; label?: { name?: string }; sender?: { login?: string } };
  const label = p.label?.name ? ` ${p.label.name}` : "";
  return `${d.event}.${p.action}${label} by ${p.sender?.login ?? "?"}`;
}

/** "running · 2 tool turns · $0.21" from the status comment, ignoring the ticking elapsed time. */
function summariseStatus(markdown: string): string {
  const text = plainText(markdown);
  const state = /State\s+\S*\s*([a-z_ ]+?)\s+Stage/i.exec(text)?.[1] ?? "";
  const turns = /Tool turns\s+(\d+)/i.exec(text)?.[1];
  const cost = /Cost\s+(\$[\d.]+)/i.exec(text)?.[1];
  if (!state && !turns) return text.slice(0, 100);
  return [state, turns !== undefined ? `${turns} tool turn${turns === "1" ? "" : "s"}` : "", cost ?? ""]
    .filter(Boolean)
    .join(" · ");
}

process.exitCode = await main();
