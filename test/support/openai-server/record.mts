/**
 * Regenerates packages/supervisor/fixtures/codex/*.jsonl: real `codex exec --json` output of the pinned Codex CLI,
 * driven offline by the scripted Responses API server. Run: `npx tsx test/support/openai-server/record.mts`.
 * The temp worktree path is replaced by `/WORKTREE` so fixtures diff cleanly; everything else is verbatim.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Reply, sequenceReplies, startOpenAiServer } from "./index";
import { codexArgv, runCodex } from "./run-codex";

const FIXTURES = resolve(import.meta.dirname, "../../../packages/supervisor/fixtures/codex");
const PATCH = "*** Begin Patch\n*** Add File: src/hello.txt\n+hello\n*** End Patch";

const recordings: { file: string; replies: Reply[]; model?: string; resume?: boolean }[] = [
  {
    file: "edit.jsonl",
    replies: [
      { call: { name: "exec_command", arguments: { cmd: "ls" } }, reasoning: "**Planning** look first" },
      { customCall: { name: "apply_patch", input: PATCH } },
      { call: { name: "exec_command", arguments: { cmd: "exit 3" } } },
      { text: "Wrote src/hello.txt.", usage: { input_tokens: 4000, cached_tokens: 1000, output_tokens: 200 } },
    ],
  },
  { file: "rate-limited.jsonl", replies: [{ status: 429, retryAfter: 7, message: "Rate limit reached" }] },
  { file: "server-error.jsonl", replies: [{ status: 503, message: "upstream overloaded" }] },
  { file: "bad-request.jsonl", replies: [{ status: 400, message: "invalid model" }] },
  { file: "unknown-model.jsonl", model: "gpt-5-codex", replies: [{ text: "hi" }] },
];

for (const rec of recordings) {
  const server = await startOpenAiServer({ script: sequenceReplies(rec.replies) });
  const cwd = mkdtempSync(join(tmpdir(), "codex-rec-"));
  const r = await runCodex(codexArgv(server.url, rec.model), { cwd, prompt: "do the task" });
  await server.close();
  writeFileSync(join(FIXTURES, rec.file), r.stdout.replaceAll(cwd, "/WORKTREE"));
  console.log(rec.file, "exit", r.code, r.stderr.split("\n").slice(-3).join(" | "));
  rmSync(cwd, { recursive: true, force: true });
}

// Resume: a second `codex exec … resume <thread_id> -` in the same CODEX_HOME continues the first thread.
{
  const server = await startOpenAiServer({ script: sequenceReplies([{ text: "first" }]) });
  const cwd = mkdtempSync(join(tmpdir(), "codex-rec-"));
  const home = mkdtempSync(join(resolve(import.meta.dirname, "../../.."), ".codex-home-"));
  const first = await runCodex(codexArgv(server.url), { cwd, prompt: "one", home });
  const id = /"thread_id":"([^"]+)"/.exec(first.stdout)?.[1] ?? "";
  server.setScript(sequenceReplies([{ text: "resumed" }]));
  const second = await runCodex([...codexArgv(server.url), "resume", id, "-"], { cwd, prompt: "two", home });
  const last = server.responseRequests().at(-1)?.body as { input?: unknown[] } | undefined;
  writeFileSync(join(FIXTURES, "resumed.jsonl"), second.stdout.replaceAll(cwd, "/WORKTREE"));
  console.log(
    "resumed.jsonl exit",
    second.code,
    "first id",
    id,
    "input items",
    last?.input?.length,
    JSON.stringify(last?.input).includes("first"),
  );
  await server.close();
  rmSync(cwd, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
