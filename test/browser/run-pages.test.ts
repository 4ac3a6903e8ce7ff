import { signRunLink } from "@forgehand/core";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../e2e/harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "../e2e/harness/start-e2e-world";
import { testRedis, testRedisUrl, uniquePrefix } from "../helpers/redis";
import { byPromptScript, loopToolsScript, type Script } from "../support/model-server";
import { chromiumPath, launchChromium } from "./launch-chromium";

// Issue 16 items 1-2: the run pages in a real browser (Debian's chromium through playwright-core), against the
// real `forgehand start` with the forge emulator and the real Claude Code CLI on the scripted model server.

const API_TOKEN = "e2e-api-token"; // the harness's FORGEHAND_API_TOKEN
const STEPS = 5;
/** What the agent says at the end: Markdown to render, and HTML that must stay text. */
const FINAL =
  'Done: **all steps** ran.\n\n- wrote `hello.txt`\n\n<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

/** SLOWRUN: a few slow Bash steps (so the page is open while it runs), then writes hello.txt (the gate). */
const slowScript: Script = (_req, ctx) => {
  if (ctx.toolResults < STEPS)
    return {
      toolUse: { name: "Bash", input: { command: `sleep 2 && echo step-${ctx.toolResults + 1}`, description: "Step" } },
    };
  if (ctx.toolResults === STEPS)
    // Bash, not Write: Write needs an absolute path, and the CLI's system prompt does not always name the cwd.
    return { toolUse: { name: "Bash", input: { command: "echo hello > hello.txt", description: "Write hello.txt" } } };
  return { text: FINAL };
};

let world: E2eWorld;
let browser: Browser;
let prefix: string;
let slowIssue: number;
let slowRunId: string;
let loopRunId: string;
const skip = !chromiumPath();

beforeAll(async () => {
  if (skip) return;
  prefix = uniquePrefix("pages");
  world = await startE2eWorld({
    script: byPromptScript({ SLOWRUN: slowScript, LOOPRUN: loopToolsScript() }),
    stages: [
      {
        name: "develop",
        label: "agent:develop",
        gate: ["test", "-f", "hello.txt"],
        openPullRequest: true,
        limits: { timeout: "3m", stall: "60s" },
      },
    ],
    redisUrl: testRedisUrl(),
    prefix,
    linkRunPages: true,
  });
  browser = await launchChromium();
}, 120_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail" && world)
    console.error(world.diagnose(), "\nlatest status comment:\n", world.statusComments(slowIssue)[0]);
});

afterAll(async () => {
  await browser?.close();
  await world?.close();
});

/** The "Run log" link of the issue's newest status comment. */
function runLink(issue: number): string | undefined {
  const body = world.statusComments(issue)[0] ?? "";
  return /\[Run log\]\((http[^)\s]+)\)/.exec(body)?.[1];
}

/**
 * Polls `expression` in the page until it is truthy. Not `page.waitForFunction`: that evaluates a string
 * predicate with eval, which the pages' CSP forbids (rightly), and the CSP is under test here too.
 */
async function until(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(expression).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`[browser] timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  return context.newPage();
}

describe.skipIf(skip)("run pages in a real browser", () => {
  it("the signed link of a running run shows new actions live, then the state succeeded", {
    timeout: 180_000,
  }, async () => {
    slowIssue = world.openIssue("SLOWRUN: take a few steps");
    await world.addLabel(slowIssue, "agent:develop");
    const link = await waitFor("a status comment linking the run page", () => runLink(slowIssue), {
      timeoutMs: 60_000,
    });
    expect(link).toMatch(/\/runs\/[^?]+\?exp=\d+&sig=[0-9a-f]{64}$/);
    slowRunId = decodeURIComponent(new URL(link).pathname.split("/")[2] ?? "");
    // Open it as soon as the agent has started its steps, so there is something left to arrive live.
    await waitFor("the first tool turn", () => world.model.mainRequests().length >= 1, { timeoutMs: 90_000 });
    const page = await newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // Script errors and CSP violations; not the browser's own /favicon.ico 404.
    page.on(
      "console",
      (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && pageErrors.push(m.text()),
    );
    const res = await page.goto(link);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'nonce-/);
    expect(await page.textContent("#state")).toMatch(/^(queued|running)$/);
    // A marker on the window: it survives only while the page is not reloaded, so lines seen with it came over SSE.
    await page.evaluate("window.marker = 1");
    const before = await page.locator("#actions li.act").count();
    await until(page, `document.querySelectorAll("#actions li.act").length > ${before} && window.marker === 1`, 60_000);
    await until(page, 'document.getElementById("actions").textContent.includes("step-3")', 60_000);
    expect(await page.evaluate("window.marker")).toBe(1);
    // Tool calls are folded: a <details> per call, the command in its summary.
    expect(await page.locator("li.call details summary", { hasText: "sleep 2 && echo step-1" }).count()).toBe(1);
    await until(page, 'document.getElementById("state")?.textContent === "succeeded"', 120_000);
    await page.waitForLoadState("load");
    await until(page, 'document.getElementById("summary") !== null', 30_000);
    // The agent's Markdown is rendered; its HTML is shown as text and never runs.
    expect(await page.locator("#summary strong", { hasText: "all steps" }).count()).toBe(1);
    expect(await page.textContent("#summary")).toContain("<script>window.pwned=1</script>");
    expect(await page.evaluate("window.pwned")).toBeUndefined();
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.textContent("#gate")).toMatch(/exited 0/);
    expect(await page.locator("a", { hasText: /\/pull\/\d+|pulls\/\d+/ }).count()).toBeGreaterThan(0);
    // Read-only: no Stop button (and no session) for a link holder.
    expect(await page.locator("#stop").count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: "docs/img/run-page.png", fullPage: true });
    await page.context().close();
  });

  it("an altered, re-dated, missing or expired signature gets 403", { timeout: 60_000 }, async () => {
    const link = new URL(runLink(slowIssue) ?? "");
    const sig = link.searchParams.get("sig") ?? "";
    const exp = link.searchParams.get("exp") ?? "";
    const redis = testRedis();
    const secret = (await redis.get(`${prefix}:link-secret`)) ?? "";
    await redis.quit();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const past = String(Math.floor(Date.now() / 1000) - 60);
    const base = `${link.origin}${link.pathname}`;
    const page = await newPage();
    const cases = {
      altered: `${base}?exp=${exp}&sig=${sig.slice(0, -1)}${sig.endsWith("0") ? "1" : "0"}`,
      redated: `${base}?exp=${Number(exp) + 3600}&sig=${sig}`,
      otherRun: `${link.origin}/runs/${encodeURIComponent(`${slowRunId}x`)}?exp=${exp}&sig=${sig}`,
      missing: base,
      expired: `${base}?exp=${past}&sig=${signRunLink(slowRunId, Number(past), secret)}`,
    };
    for (const [name, url] of Object.entries(cases)) {
      const res = await page.goto(url);
      expect(res?.status(), name).toBe(403);
    }
    expect(await page.textContent("main")).toMatch(/expired/);
    // The live feed is guarded the same way.
    const events = await page.request.get(
      `${base}/events?exp=${exp}&sig=${sig.replace(/^./, sig[0] === "a" ? "b" : "a")}`,
    );
    expect(events.status()).toBe(403);
    // The genuine link still opens (the 403s are the signature's doing, not the run's).
    expect((await page.goto(link.href))?.status()).toBe(200);
    await page.context().close();
  });

  it("an operator logs in, and Stop stops a running run (CSRF-checked)", { timeout: 180_000 }, async () => {
    const issue = world.openIssue("LOOPRUN: loop until stopped");
    await world.addLabel(issue, "agent:develop");
    const run = await waitFor(
      "the loop run to be running",
      async () => (await world.runs()).find((r) => r.issue === issue && r.state === "running"),
      { timeoutMs: 90_000 },
    );
    loopRunId = run.id;
    const page = await newPage();
    await page.goto(`${world.forgehand.url}/runs`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("input[name=token]", "wrong-token");
    await page.click("button[type=submit]");
    expect(await page.textContent("main")).toContain("Wrong token");
    await page.fill("input[name=token]", API_TOKEN);
    await page.click("button[type=submit]");
    expect(new URL(page.url()).pathname).toBe("/runs");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "fh_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict" });

    await page.click(`tr[data-run="${loopRunId}"] a`);
    await page.waitForSelector("#stop");
    // A POST without the page's CSRF token is refused even with the session cookie; the run goes on.
    const forged = await page.request.post(`${world.forgehand.url}/runs/${loopRunId}/stop`, {
      form: { csrf: "forged" },
    });
    expect(forged.status()).toBe(403);
    expect((await world.runs()).find((r) => r.id === loopRunId)?.state).toBe("running");

    await page.click("#stop");
    await until(page, 'document.getElementById("state")?.textContent === "stopped"', 90_000);
    expect((await world.runs()).find((r) => r.id === loopRunId)?.state).toBe("stopped");
    // The final edit (a running comment may mention "stopped" in the agent's last actions, so match the result).
    const final = await waitFor("the status comment to say stopped by the operator", () =>
      world.statusComments(issue).find((body) => /stopped by @?operator/i.test(plainText(body))),
    );
    expect(plainText(final)).toMatch(/stopped by @?operator/i);
    expect(world.survivors().filter((p) => p.cmdline.includes("claude"))).toEqual([]);
    await page.context().close();
  });

  it("the list page filters by state, stage and repo", { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${world.forgehand.url}/login`);
    await page.fill("input[name=token]", API_TOKEN);
    await page.click("button[type=submit]");
    const rows = async (query: string) => {
      const res = await page.goto(`${world.forgehand.url}/runs${query}`);
      expect(res?.status(), query).toBe(200);
      return page.locator("tr[data-run]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")));
    };
    expect(await rows("")).toEqual(expect.arrayContaining([slowRunId, loopRunId]));
    expect(await rows("?state=succeeded")).toEqual([slowRunId]);
    expect(await rows("?state=stopped")).toEqual([loopRunId]);
    expect(await rows("?stage=develop&repo=ACME/widgets")).toEqual(expect.arrayContaining([slowRunId, loopRunId]));
    expect(await rows("?stage=analyse")).toEqual([]);
    expect(await rows("?repo=acme/other")).toEqual([]);
    expect((await page.goto(`${world.forgehand.url}/runs?state=bogus`))?.status()).toBe(400);
    // Through the form, as a person would: choose a state and submit.
    await page.goto(`${world.forgehand.url}/runs`);
    await page.selectOption("select[name=state]", "succeeded");
    await page.click("form.filters button[type=submit]");
    expect(new URL(page.url()).searchParams.get("state")).toBe("succeeded");
    expect(await page.locator("tr[data-run]").count()).toBe(1);
    await page.goto(`${world.forgehand.url}/runs`);
    await page.screenshot({ path: "docs/img/run-list.png", fullPage: true });
    await page.context().close();
  });
});
