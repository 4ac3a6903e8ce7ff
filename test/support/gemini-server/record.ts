/**
 * Regenerates packages/supervisor/fixtures/gemini/*.jsonl: real `--output-format stream-json` output of the pinned
 * Gemini CLI, driven offline by the scripted Gemini server. Run: `npx tsx test/support/gemini-server/record.ts`.
 * Temp paths are replaced by stable placeholders so fixtures diff cleanly; everything else is verbatim.
 */
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeGitRepo } from "../model-server/run-claude";
import {
  type GeminiScript,
  geminiLoopToolsScript,
  geminiPathInWorkdir,
  geminiSequenceScript,
  geminiWriteFileScript,
  type RunGeminiOptions,
  runGemini,
  startGeminiServer,
} from "./index";

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), "../../../packages/supervisor/fixtures/gemini");
const LOOP_TURNS = 3;

interface Recording {
  file: string;
  what: string;
  script: GeminiScript;
  options?: Partial<RunGeminiOptions>;
}

const recordings: Recording[] = [
  {
    file: "write-file.jsonl",
    what: "one write_file call, then a final text in two SSE chunks (two assistant deltas); exit 0",
    script: geminiWriteFileScript("hello.txt", "hello\n", { finalText: "Wrote hello.txt for you." }),
  },
  {
    file: "two-calls-one-turn.jsonl",
    what: "one model turn with two run_shell_command calls and a read_file, then text; 20k cached of 50k prompt tokens",
    script: (_req, ctx) =>
      ctx.functionResponses > 0
        ? {
            text: "All done.",
            usage: { promptTokenCount: 50_000, candidatesTokenCount: 20, cachedContentTokenCount: 20_000 },
          }
        : {
            functionCalls: [
              { name: "run_shell_command", args: { command: "echo one", description: "one" } },
              { name: "run_shell_command", args: { command: "echo two", description: "two" } },
              { name: "read_file", args: { file_path: geminiPathInWorkdir(ctx, "README.md") } },
            ],
            usage: { promptTokenCount: 40_000, candidatesTokenCount: 30 },
          },
  },
  {
    file: "tool-loop.jsonl",
    what: `run_shell_command forever, killed (SIGKILL) after ${LOOP_TURNS} tool results: no result line`,
    script: geminiLoopToolsScript(),
    options: { killWhen: (events) => events.filter((e) => e.type === "tool_result").length >= LOOP_TURNS },
  },
  {
    file: "loop-detected.jsonl",
    what: "the same run_shell_command call forever: the CLI's loop detector stops it (an `error` warning), success result",
    script: () => ({
      functionCalls: [{ name: "run_shell_command", args: { command: "echo hi", description: "Say hi" } }],
    }),
  },
  {
    file: "api-429-exhausted.jsonl",
    what: "429 RESOURCE_EXHAUSTED (Retry-After 1) on every try, maxAttempts 2: error result, non-zero exit",
    script: () => ({ status: 429, retryAfter: 1 }),
  },
  {
    file: "api-503.jsonl",
    what: "503 UNAVAILABLE (overloaded) on every try, maxAttempts 2: error result, non-zero exit",
    script: () => ({ status: 503 }),
  },
  {
    file: "api-400.jsonl",
    what: "400 INVALID_ARGUMENT: error result (not transient), non-zero exit",
    script: () => ({ status: 400, message: "Request contains an invalid argument." }),
  },
  {
    file: "api-429-then-ok.jsonl",
    what: "one 429 (Retry-After 1), then text: the CLI retries on its own (stderr only), success",
    script: geminiSequenceScript([{ status: 429, retryAfter: 1 }, { text: "done after 429" }]),
  },
];

const server = await startGeminiServer({ script: () => ({ text: "unused" }) });
const summary: string[] = [];
try {
  // `record.ts tool-loop` re-records only the fixtures whose file name contains the argument.
  for (const recording of recordings.filter((r) => r.file.includes(process.argv[2] ?? ""))) {
    server.setScript(recording.script);
    const cwd = makeGitRepo("fh-gemini-repo-");
    const run = await runGemini({ baseUrl: server.url, cwd, prompt: "Do the task.", ...recording.options });
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
const readme = `# Gemini CLI stream-json fixtures

Real stdout of \`gemini\` 0.61.0 (\`-m gemini-2.5-pro --yolo --output-format stream-json\`, prompt on stdin) driven
offline by the scripted Gemini server (\`test/support/gemini-server\`). Regenerate with
\`npx tsx test/support/gemini-server/record.ts\`. Temp paths are replaced by \`/tmp/forgehand-fixture/{repo,home}\`;
ids, timestamps and token counts are verbatim.

${summary.join("\n")}
`;
if (!process.argv[2]) writeFileSync(join(FIXTURES, "README.md"), readme);
console.log(summary.join("\n"));
