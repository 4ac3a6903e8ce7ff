import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where the e2e tests keep real recorded `claude -p --output-format stream-json --verbose` runs. */
export const RECORDED_DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "claude");

const SESSION = "0f9b6c1e-3c1a-4c59-9a57-5d7f2f4b9a10";
const MODEL = "claude-sonnet-4-5-20250929";

// A plausible source file as a Read tool result returns it (`cat -n` style), so tool results have real shape.
function fileListing(lines: number, seed: number): string {
  const out: string[] = [];
  for (let i = 1; i <= lines; i++) {
    const code =
      i % 7 === 0
        ? `  }`
        : i % 5 === 0
          ? `  // keep ${seed}-${i}: the watchdog resets on each chunk, see execa docs/termination.md`
          : `  const value${i} = await client.request("GET /repos/{owner}/{repo}/issues/${seed + i}", { owner, repo });`;
    out.push(`${String(i).padStart(6)}\u2192${code}`);
  }
  return out.join("\n");
}

function usage(out: number) {
  return {
    input_tokens: 4,
    cache_creation_input_tokens: 1289,
    cache_read_input_tokens: 18734,
    cache_creation: { ephemeral_5m_input_tokens: 1289, ephemeral_1h_input_tokens: 0 },
    output_tokens: out,
    service_tier: "standard",
  };
}

/**
 * One constructed agent session in Claude Code's stream-json format (system init, assistant
 * text and tool_use lines — one line per content block, sharing the message id — user
 * tool_result lines with file contents, and the final result), used when no recorded
 * fixture exists. `n` makes ids unique per copy.
 */
export function constructedSession(n: number): string[] {
  const lines: string[] = [];
  const push = (o: unknown) => lines.push(JSON.stringify(o));
  push({
    type: "system",
    subtype: "init",
    cwd: `/home/forgehand/.forgehand/worktrees/octo-repo/forgehand-${n}-fix-login`,
    session_id: SESSION,
    tools: [
      "Task",
      "Bash",
      "Glob",
      "Grep",
      "Read",
      "Edit",
      "Write",
      "NotebookEdit",
      "WebFetch",
      "TodoWrite",
      "WebSearch",
    ],
    mcp_servers: [],
    model: MODEL,
    permissionMode: "acceptEdits",
    slash_commands: ["compact", "context", "cost", "init", "review", "security-review"],
    apiKeySource: "ANTHROPIC_API_KEY",
    claude_code_version: "2.1.197",
    output_style: "default",
    agents: ["general-purpose", "statusline-setup", "Explore", "Plan"],
    skills: [],
    plugins: [],
    uuid: `a1b2c3d4-0000-4000-8000-${String(n).padStart(12, "0")}`,
  });
  for (let turn = 0; turn < 12; turn++) {
    const id = `msg_01${n.toString(36).padStart(8, "0")}${turn.toString(36).padStart(4, "0")}XyZ`;
    const toolId = `toolu_01${n.toString(36).padStart(8, "0")}${turn.toString(36).padStart(4, "0")}Ab`;
    const base = { type: "message", role: "assistant", model: MODEL, id, stop_reason: null, stop_sequence: null };
    push({
      type: "assistant",
      message: {
        ...base,
        content: [
          {
            type: "text",
            text: `Let me look at how the login handler validates the session token (step ${turn + 1}). The bug report says the redirect loops when the cookie has expired.`,
          },
        ],
        usage: usage(3),
      },
      parent_tool_use_id: null,
      session_id: SESSION,
      uuid: `u-${n}-${turn}-a`,
    });
    const tool =
      turn % 3 === 0
        ? {
            name: "Bash",
            input: { command: "npm test -- --run src/auth/login.test.ts", description: "Run login tests" },
          }
        : turn % 3 === 1
          ? { name: "Read", input: { file_path: `/home/forgehand/worktree/src/auth/login-${turn}.ts` } }
          : {
              name: "Edit",
              input: {
                file_path: `/home/forgehand/worktree/src/auth/login-${turn}.ts`,
                old_string: "if (session.expiresAt < now) return redirect('/login');",
                new_string:
                  "if (session.expiresAt < now) {\n    clearCookie(res);\n    return redirect('/login');\n  }",
              },
            };
    push({
      type: "assistant",
      message: { ...base, content: [{ type: "tool_use", id: toolId, ...tool }], usage: usage(187) },
      parent_tool_use_id: null,
      session_id: SESSION,
      uuid: `u-${n}-${turn}-b`,
    });
    const content = fileListing(turn % 3 === 1 ? 160 : 12, n * 100 + turn);
    push({
      type: "user",
      message: { role: "user", content: [{ tool_use_id: toolId, type: "tool_result", content }] },
      parent_tool_use_id: null,
      session_id: SESSION,
      uuid: `u-${n}-${turn}-c`,
      tool_use_result: { stdout: content, stderr: "", interrupted: false, isImage: false },
    });
  }
  push({
    type: "result",
    subtype: "success",
    is_error: false,
    duration_ms: 84211,
    duration_api_ms: 61870,
    num_turns: 12,
    result: "Fixed the redirect loop: an expired session now clears the cookie before redirecting. Tests pass.",
    session_id: SESSION,
    total_cost_usd: 0.2143,
    usage: usage(2401),
    modelUsage: {},
    permission_denials: [],
    uuid: `r-${n}`,
  });
  return lines;
}

/** Lines of the recorded fixtures (`test/fixtures/claude/*.jsonl`), or [] when none are recorded yet. */
export function recordedLines(): { lines: string[]; files: string[] } {
  if (!existsSync(RECORDED_DIR)) return { lines: [], files: [] };
  const files = readdirSync(RECORDED_DIR).filter((f) => f.endsWith(".jsonl"));
  const lines = files.flatMap((f) =>
    readFileSync(join(RECORDED_DIR, f), "utf8")
      .split("\n")
      .filter((l) => l.trim().startsWith("{")),
  );
  return { lines, files };
}

/** A stream of at least `bytes` bytes: recorded lines when there are any, else constructed sessions. */
export function buildStream(bytes: number): { text: string; source: string; lines: number } {
  const recorded = recordedLines();
  const parts: string[] = [];
  let size = 0;
  let count = 0;
  for (let n = 0; size < bytes; n++) {
    const session = recorded.lines.length ? recorded.lines : constructedSession(n);
    for (const line of session) {
      parts.push(line, "\n");
      size += line.length + 1;
      count++;
    }
  }
  const source = recorded.lines.length
    ? `${recorded.lines.length} recorded lines from test/fixtures/claude/ (${recorded.files.join(", ")}), repeated`
    : "constructed Claude Code stream-json sessions (no recordings in test/fixtures/claude/ yet)";
  return { text: parts.join(""), source, lines: count };
}
