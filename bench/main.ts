import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { figures } from "./figures";
import { killTrackedOnSignal } from "./harness/child";
import { renderMarkdown, renderTable } from "./harness/report";
import { runFigures } from "./harness/run-figures";

// `npm run bench [-- --only ingest,parser] [-- --smoke]`: runs the figures one at a time,
// prints the table and writes bench/RESULTS.md (a partial run with --only or --smoke does not).
const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith("--only"));
const only = onlyArg ? (onlyArg.split("=")[1] ?? args[args.indexOf(onlyArg) + 1] ?? "").split(",").filter(Boolean) : [];
const size = args.includes("--smoke") ? "smoke" : "full";

killTrackedOnSignal();
const run = await runFigures(figures, { size, only, note: (m) => process.stderr.write(`[bench] ${m}\n`) });
console.log(renderTable(run.results, run.machine));
if (size === "full" && only.length === 0) {
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
