import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { figures } from "./figures";
import { killTrackedOnSignal } from "./harness/child";
import { renderMarkdown, renderTable } from "./harness/report";
import { runFigures } from "./harness/run-figures";
import { summarizeProfile } from "./harness/summarize-profile";

// `npm run bench [-- --only ingest,parser] [-- --smoke] [-- --profile]`: runs the figures one at a
// time, prints the table and writes bench/RESULTS.md (a partial run with --only or --smoke does not).
// --profile makes every child process write a V8 CPU profile to bench/profiles/ and prints where
// their time went; a profiled run's numbers are slower and never written to RESULTS.md.
const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith("--only"));
const only = onlyArg ? (onlyArg.split("=")[1] ?? args[args.indexOf(onlyArg) + 1] ?? "").split(",").filter(Boolean) : [];
const size = args.includes("--smoke") ? "smoke" : "full";
const profile = args.includes("--profile");
const profileDir = join(import.meta.dirname, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
if (profile) {
  mkdirSync(profileDir, { recursive: true });
  process.env.BENCH_CPU_PROF_DIR = profileDir;
}

killTrackedOnSignal();
const run = await runFigures(figures, { size, only, note: (m) => process.stderr.write(`[bench] ${m}\n`) });
console.log(renderTable(run.results, run.machine));
if (profile) {
  for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
    const sum = summarizeProfile(join(profileDir, file), 12);
    console.log(`\nprofile ${join(profileDir, file)}: ${Math.round(sum.totalMs)} ms busy`);
    for (const a of sum.areas) console.log(`  ${String(a.selfPct).padStart(5)} %  ${a.area}`);
    for (const f of sum.functions) console.log(`  ${String(f.selfPct).padStart(5)} %  ${f.name}  ${f.where}`);
    console.log("  forgehand's own functions, inclusive:");
    for (const f of sum.ownInclusive) console.log(`  ${String(f.totalPct).padStart(5)} %  ${f.name}  ${f.where}`);
  }
}
if (size === "full" && only.length === 0 && !profile) {
  const file = join(import.meta.dirname, "RESULTS.md");
  writeFileSync(file, renderMarkdown(run.results, run.machine, new Date()));
  console.log(`\nwrote ${file}`);
} else {
  // Partial runs do not overwrite RESULTS.md; show their breakdown instead.
  console.log(`\n${renderMarkdown(run.results, run.machine, new Date())}`);
}
if (run.failed.length) {
  console.error(`[bench] these figures failed to run: ${run.failed.join(", ")}`);
  process.exitCode = 1;
}
