import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  loopToolsScript,
  type ModelServer,
  type Script,
  sequenceScript,
  startModelServer,
  writeFileScript,
} from "./index";
import { makeGitRepo, parseStreamJson, runClaude } from "./run-claude";

let server: ModelServer | undefined;
const tempDirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp git repo for the CLI's cwd, removed after the file. */
function repo(): string {
  const dir = makeGitRepo();
  tempDirs.push(dir);
  return dir;
}

/** Runs the CLI and schedules its temp HOME for removal. */
async function claude(options: Parameters<typeof runClaude>[0]) {
  const run = await runClaude(options);
  tempDirs.push(run.home);
  return run;
}

async function start(script: Script): Promise<ModelServer> {
  server = await startModelServer({ script });
  return server;
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

const mainBody = (stream: boolean) => ({
  model: "claude-test",
  max_tokens: 100,
  stream,
  system: [{ type: "text", text: "You are an agent.\n - Primary working directory: /tmp/some repo\n" }],
  tools: [{ name: "Write" }],
  messages: [{ role: "user", content: "go" }],
});

/** Server-sent events as [event, data] pairs. */
function parseSse(text: string): Array<[string, Record<string, unknown>]> {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "null") as Record<string, unknown>;
      return [event, data];
    });
}

describe("model server protocol", () => {
  it("streams a tool_use turn as message_start, input_json_delta pieces, message_delta tool_use, message_stop", async () => {
    const s = await start((_req, ctx) => ({
      toolUse: { name: "Write", input: { file_path: `${ctx.cwd}/a.txt`, content: "x".repeat(60) } },
    }));
    const res = await post(`${s.url}/v1/messages`, mainBody(true));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = parseSse(await res.text());
    const names = events.map(([e]) => e).filter((e) => e !== "ping");
    expect(names[0]).toBe("message_start");
    expect(names.at(-2)).toBe("message_delta");
    expect(names.at(-1)).toBe("message_stop");
    const blockStart = events.find(([e]) => e === "content_block_start")![1];
    expect(blockStart.content_block).toMatchObject({ type: "tool_use", name: "Write", input: {} });
    const pieces = events
      .filter(([e]) => e === "content_block_delta")
      .map(([, d]) => d.delta as Record<string, string>);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.type === "input_json_delta")).toBe(true);
    const input = JSON.parse(pieces.map((p) => p.partial_json).join(""));
    expect(input.file_path).toBe("/tmp/some repo/a.txt");
    expect(events.find(([e]) => e === "message_delta")![1]).toMatchObject({ delta: { stop_reason: "tool_use" } });
  });

  it("answers stream:false with one JSON message and text turns with end_turn", async () => {
    const s = await start(() => ({ text: "done", usage: { input_tokens: 7, output_tokens: 3 } }));
    const message = (await (await post(`${s.url}/v1/messages`, mainBody(false))).json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-test",
      content: [{ type: "text", text: "done" }],
      stop_reason: "end_turn",
      usage: { input_tokens: 7, output_tokens: 3 },
    });
  });

  it("answers side requests (no tools) with plain text without consuming the script", async () => {
    const s = await start(sequenceScript([{ text: "first" }, { text: "second" }]));
    const side = await post(`${s.url}/v1/messages`, { ...mainBody(false), tools: undefined, max_tokens: 50 });
    expect(((await side.json()) as { content: unknown[] }).content).toEqual([{ type: "text", text: "forgehand test" }]);
    const main = await post(`${s.url}/v1/messages`, mainBody(false));
    expect(((await main.json()) as { content: unknown[] }).content).toEqual([{ type: "text", text: "first" }]);
    expect(s.requests.map((r) => r.kind)).toEqual(["side", "main"]);
  });

  it("returns scripted API errors with retry-after, count_tokens, and records unknown paths harmlessly", async () => {
    const s = await start(() => ({ status: 429, retryAfter: 3 }));
    const limited = await post(`${s.url}/v1/messages`, mainBody(true));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(await limited.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    s.setScript(() => ({ status: 529 }));
    expect(await (await post(`${s.url}/v1/messages`, mainBody(true))).json()).toMatchObject({
      error: { type: "overloaded_error" },
    });
    const count = (await (await post(`${s.url}/v1/messages/count_tokens`, mainBody(false))).json()) as {
      input_tokens: number;
    };
    expect(count.input_tokens).toBeGreaterThan(0);
    expect((await fetch(`${s.url}/api/hello`)).status).toBe(200);
    expect(s.requests.map((r) => `${r.kind} ${r.path}`)).toEqual([
      "main /v1/messages",
      "main /v1/messages",
      "count_tokens /v1/messages/count_tokens",
      "unknown /api/hello",
    ]);
  });

  it("holds a silent turn open without bytes until close() drops it", async () => {
    const s = await start(() => ({ silentForMs: 60_000 }));
    const pending = post(`${s.url}/v1/messages`, mainBody(true)).then(
      () => "answered",
      () => "dropped",
    );
    const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r("still silent"), 300))]);
    expect(early).toBe("still silent");
    await s.close();
    server = undefined;
    expect(await pending).toBe("dropped");
  });
});

describe("the real Claude Code CLI against the model server", () => {
  it("writes the scripted file and reports init, tool_use and a costed result on stdout", async () => {
    const s = await start(writeFileScript("notes/hello.txt", "hi from the scripted model\n"));
    const cwd = repo();
    const run = await claude({ baseUrl: s.url, cwd, prompt: "Please write notes/hello.txt" });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(cwd, "notes/hello.txt"), "utf8")).toBe("hi from the scripted model\n");

    const init = run.events.find((e) => e.type === "system" && e.subtype === "init");
    expect(init?.session_id).toMatch(/^[0-9a-f-]{36}$/);
    const toolUses = run.events
      .filter((e) => e.type === "assistant")
      .flatMap((e) => (e.message as { content: Array<Record<string, unknown>> }).content)
      .filter((b) => b.type === "tool_use");
    expect(toolUses).toHaveLength(1);
    expect(toolUses[0]).toMatchObject({ name: "Write", input: { file_path: join(cwd, "notes/hello.txt") } });
    const result = run.events.at(-1)!;
    expect(result).toMatchObject({ type: "result", subtype: "success", is_error: false, num_turns: 2 });
    expect(result.total_cost_usd).toBeGreaterThan(0);
    // The prompt arrived on stdin and the working directory was read from the system prompt.
    expect(JSON.stringify(s.mainRequests()[0]!.body)).toContain("Please write notes/hello.txt");
  });

  it("resumes a session offline with --resume when HOME is kept", async () => {
    const s = await start(writeFileScript("a.txt", "A\n"));
    const cwd = repo();
    const first = await claude({ baseUrl: s.url, cwd, prompt: "first" });
    const sessionId = first.events[0]!.session_id as string;
    s.setScript((req, ctx) => ({
      text: `resumed with ${req.messages.length} messages, ${ctx.toolResults} tool results`,
    }));
    const second = await claude({
      baseUrl: s.url,
      cwd,
      prompt: "again",
      home: first.home,
      args: ["--resume", sessionId],
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.events[0]!.session_id).toBe(sessionId);
    expect(second.events.at(-1)!.result).toContain("1 tool results");
    const lost = await claude({ baseUrl: s.url, cwd, prompt: "again", args: ["--resume", sessionId] });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain("No conversation found");
  }, 90_000); // two real CLI runs back to back: slow on a loaded 2-core machine

  it("honours --max-turns with an error_max_turns result", async () => {
    const s = await start(loopToolsScript());
    const run = await claude({ baseUrl: s.url, cwd: repo(), prompt: "loop", args: ["--max-turns", "2"] });
    expect(run.code).toBe(1);
    expect(s.mainRequests()).toHaveLength(2);
    expect(run.events.at(-1)).toMatchObject({ type: "result", subtype: "error_max_turns", is_error: true });
  });

  it("retries a 429 itself after Retry-After and then succeeds, announcing api_retry", async () => {
    const s = await start(sequenceScript([{ status: 429, retryAfter: 1 }, { text: "ok after the rate limit" }]));
    const run = await claude({ baseUrl: s.url, cwd: repo(), prompt: "hi" });
    expect(run.code, run.stderr).toBe(0);
    const main = s.mainRequests();
    expect(main).toHaveLength(2);
    expect(main[1]!.at - main[0]!.at).toBeGreaterThanOrEqual(950);
    const retry = run.events.find((e) => e.subtype === "api_retry");
    expect(retry).toMatchObject({ error_status: 429, attempt: 1 });
    // 2.1.3xx adds up to ~25 % jitter on top of Retry-After (2.1.197 waited exactly Retry-After).
    expect(retry!.retry_delay_ms).toBeGreaterThanOrEqual(1000);
    expect(retry!.retry_delay_ms).toBeLessThan(1500);
    expect(run.events.at(-1)).toMatchObject({ subtype: "success", result: "ok after the rate limit" });
  });

  it("reports a 429 it will not wait for (Retry-After over 60 s) as an is_error result with api_error_status", async () => {
    const s = await start(() => ({ status: 429, retryAfter: 120 }));
    const run = await claude({ baseUrl: s.url, cwd: repo(), prompt: "hi" });
    expect(run.code).toBe(1);
    expect(s.mainRequests()).toHaveLength(1);
    expect(run.events.at(-1)).toMatchObject({ type: "result", is_error: true, api_error_status: 429 });
  });

  it("parses stream-json leniently", () => {
    expect(parseStreamJson('{"type":"a"}\nnot json\n\n')).toEqual([{ type: "a" }, { type: "raw", line: "not json" }]);
  });
});
