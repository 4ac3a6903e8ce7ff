import { readFileSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { createCodexJsonParser, createLineSplitter } from "@forgehand/supervisor";
import type { Figure } from "../harness/figure";
import { fmt, median } from "../harness/stats";

const CHUNK = 64 * 1024;
const TARGET_MBPS = 100;
const FIXTURE = new URL("../../packages/supervisor/fixtures/codex/edit.jsonl", import.meta.url);

/** The recorded real codex stream, its item ids renumbered per copy so each copy is new tool calls. */
function buildCodexStream(bytes: number): { buf: Buffer; lines: number } {
  const lines = readFileSync(FIXTURE, "utf8").split("\n").filter(Boolean);
  const body = lines.filter((l) => l.includes('"item.'));
  const out: string[] = [lines[0] as string];
  let size = 0;
  for (let copy = 0; size < bytes; copy++) {
    for (const line of body) {
      const l = line.replace(/"item_(\d+)"/g, (_m, n) => `"item_${copy}_${n}"`);
      out.push(l);
      size += l.length + 1;
    }
  }
  out.push(lines.at(-1) as string);
  return { buf: Buffer.from(`${out.join("\n")}\n`, "utf8"), lines: out.length };
}

function pass(chunks: readonly Buffer[]): number {
  const parse = createCodexJsonParser({ cwd: "/WORKTREE", model: "gpt-5.5" });
  const decoder = new StringDecoder("utf8");
  let events = 0;
  const splitter = createLineSplitter((line) => {
    events += parse(line).length;
  });
  for (const c of chunks) splitter.push(decoder.write(c));
  splitter.push(decoder.end());
  splitter.end();
  return events;
}

/** Figure 5b: MB/s of the codex-json parser over a real codex 0.171.0 stream, forgehand's own path. */
export const codexParserFigure: Figure = {
  id: "codex-parser",
  title: "5b. codex-json parser throughput",
  method:
    "packages/supervisor/fixtures/codex/edit.jsonl (real codex exec --json) repeated with fresh item ids to 64 MB, fed in 64 KiB chunks through StringDecoder → createLineSplitter → createCodexJsonParser; median MB/s of the passes after one warm-up",
  target: `≥ ${TARGET_MBPS} MB/s`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const { buf, lines } = buildCodexStream(smoke ? 2 * 2 ** 20 : 64 * 2 ** 20);
    const mb = buf.length / 1e6;
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += CHUNK) chunks.push(buf.subarray(i, i + CHUNK));
    const passes = smoke ? 2 : 7;
    ctx.note(`${fmt(mb)} MB, ${lines} lines, ${passes} passes`);
    pass(chunks);
    const runs: number[] = [];
    let events = 0;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      events = pass(chunks);
      runs.push(mb / ((performance.now() - t0) / 1000));
      if (events === 0) throw new Error("[bench] the codex parser produced no events");
    }
    const med = median(runs);
    const met = med >= TARGET_MBPS;
    return {
      status: met ? "met" : "missed",
      headline: `${fmt(med)} MB/s wall over ${fmt(mb)} MB (${events.toLocaleString("en-US")} events per pass)`,
      reason: met ? undefined : `below target on ${ctx.machine.cores} shared cores`,
      metrics: { parserMBps: med, streamMB: mb, events },
      details: runs.map((v, i) => `pass ${i + 1}: ${fmt(v)} MB/s`),
    };
  },
};
