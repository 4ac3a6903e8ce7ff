// Regenerates packages/forge/README-status.md from the real renderer.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderStatusExamples } from "../src/status-examples";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "README-status.md");
writeFileSync(out, renderStatusExamples());
// `npm run lint` checks Markdown formatting too, so commit it formatted.
execFileSync("npx", ["biome", "format", "--write", out], { stdio: "ignore" });
process.stdout.write(`wrote ${out}\n`);
