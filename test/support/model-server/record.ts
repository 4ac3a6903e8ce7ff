/**
 * Regenerates test/fixtures/claude/*.jsonl: real stream-json output of the pinned Claude Code CLI, driven offline by
 * the scripted model server. Run: `npx tsx test/support/model-server/record.ts`.
 * Temp paths are replaced by stable placeholders so fixtures diff cleanly; everything else is verbatim.
 */
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loopToolsScript, type Script, sequenceScript, startModelServer, writeFileScript } from "./index";
import { makeGitRepo, type RunClaudeOptions, runClaude } from "./run-claude";

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/claude");
const LOOP_TURNS = 3;

interface Recording {
  file: string;
  what: string;
  script: Script;
  options?: Partial<RunClaudeOptions>;
}

const toolResultCount = (events: Array<Record<string, unknown>>) =>
  events.filter((e) => e.type === "user" && JSON.stringify(e).includes('"tool_result"')).length;

const recordings: Recording[] = [
  {
    file: "write-file.jsonl",
    what: "one Write tool call, then a final text; exit 0",
    script: writeFileScript("hello.txt", "hello\n"),
  },
  {
    file: "tool-loop.jsonl",
    what: `Bash tool calls forever, killed (SIGKILL) after ${LOOP_TURNS} tool results: no result line`,
    script: loopToolsScript(),
    options: { killWhen: (events) => toolResultCount(events) >= LOOP_TURNS },
  },
  {
    file: "max-turns.jsonl",
    what: "tool calls forever with --max-turns 3: error_max_turns result, exit 1",
    script: loopToolsScript(),
    options: { args: ["--max-turns", "3"] },
  },
  {
    file: "error-result.jsonl",
    what: "the API answers 400: synthetic assistant error text, is_error result, exit 1",
    script: () => ({ status: 400, message: "prompt is too long" }),
  },
  {
    file: "api-429.jsonl",
    what: "429 with Retry-After: 1 twice, then success: two api_retry lines, exit 0",
    script: sequenceScript([
      { status: 429, retryAfter: 1 },
      { status: 429, retryAfter: 1 },
      { text: "done after 429" },
    ]),
  },
  {
    file: "api-429-exhausted.jsonl",
    what: "429 forever with CLAUDE_CODE_MAX_RETRIES=2: api_retry lines, then is_error result with api_error_status 429",
    script: () => ({ status: 429, retryAfter: 1 }),
    options: { env: { CLAUDE_CODE_MAX_RETRIES: "2" } },
  },
  {
    file: "budget.jsonl",
    what: "two Bash turns of 200k input tokens each (~$1 per turn, visible in each assistant line) and a final text: cost grows per turn",
    script: (_req, ctx) =>
      ctx.toolResults < 2
        ? {
            toolUse: { name: "Bash", input: { command: "echo hi" } },
            usage: { input_tokens: 200_000, output_tokens: 10 },
          }
        : { text: "spent", usage: { input_tokens: 200_000, output_tokens: 10 } },
  },
];

const server = await startModelServer({ script: () => ({ text: "unused" }) });
const summary: string[] = [];
try {
  for (const recording of recordings) {
    server.setScript(recording.script);
    const cwd = makeGitRepo();
    const run = await runClaude({ baseUrl: server.url, cwd, prompt: "Do the task.", ...recording.options });
    const text = run.stdout
      .replaceAll(cwd, "/tmp/forgehand-fixture/repo")
      .replaceAll(run.home, "/tmp/forgehand-fixture/home");
    writeFileSync(join(FIXTURES, recording.file), text.endsWith("\n") ? text : `${text}\n`);
    summary.push(
      `- \`${recording.file}\` — ${recording.what} (exit ${run.code ?? run.signal}, ${run.events.length} lines)`,
    );
    rmSync(cwd, { recursive: true, force: true });
    rmSync(run.home, { recursive: true, force: true });
  }
} finally {
  await server.close();
}
const readme = `# Claude Code stream-json fixtures

Real stdout of \`claude\` ${"2.1.332"} (\`-p --output-format stream-json --verbose\`) driven offline by the scripted
model server. Regenerate with \`npx tsx test/support/model-server/record.ts\`. Temp paths are replaced by
\`/tmp/forgehand-fixture/{repo,home}\`; ids, timings and costs are verbatim. See
\`test/support/model-server/NOTES.md\` for what the lines mean.

${summary.join("\n")}
`;
writeFileSync(join(FIXTURES, "README.md"), readme);
console.log(summary.join("\n"));
