// Bundles the CLI and the workspace packages it uses into dist/main.js; third-party
// packages stay external (they are installed in node_modules), so Lua scripts,
// native addons and binaries inside them keep working.
import { existsSync, readdirSync, readFileSync } from "node:fs";
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
// A workspace package whose source has not landed yet stays external: the CLI imports it
// lazily and reports "not available yet" instead of the whole build failing.
const missingWorkspace = {
  name: "missing-workspace",
  setup(b) {
    b.onResolve({ filter: /^@forgehand\// }, (args) => {
      const [scope, name] = args.path.split("/");
      for (const group of ["packages", "apps"]) {
        const dir = join(root, group, name);
        try {
          const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
          if (pkg.name !== `${scope}/${name}`) continue;
          const entry = join(dir, typeof pkg.exports === "string" ? pkg.exports : (pkg.exports?.["."] ?? pkg.main));
          return existsSync(entry) ? undefined : { path: args.path, external: true };
        } catch {}
      }
      return undefined;
    });
  },
};
await build({
  plugins: [missingWorkspace],
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
