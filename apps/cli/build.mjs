// Bundles the CLI and the workspace packages it uses into dist/main.js; third-party
// packages stay external (they are installed in node_modules), so Lua scripts,
// native addons and binaries inside them keep working.
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const external = new Set();
for (const group of ["packages", "apps"]) {
  for (const dir of readdirSync(join(root, group))) {
    try {
      const pkg = JSON.parse(readFileSync(join(root, group, dir, "package.json"), "utf8"));
      for (const dep of Object.keys(pkg.dependencies ?? {})) if (!dep.startsWith("@forgehand/")) external.add(dep);
    } catch {}
  }
}
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(here, "dist", "main.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  external: [...external, ...[...external].map((d) => `${d}/*`)],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
// The supervisor finds its sandbox helpers beside its own module (`new URL("./sandbox-init.mjs",
// import.meta.url)`); bundled, that module is dist/main.js, so the helpers must sit in dist/ too.
const sandboxDir = join(root, "packages", "supervisor", "src", "sandbox");
for (const helper of ["sandbox-init.mjs", "sandbox-init.pl", "sandbox-bridge.mjs"])
  copyFileSync(join(sandboxDir, helper), join(here, "dist", helper));
