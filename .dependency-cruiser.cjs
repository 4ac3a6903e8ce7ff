// The dependency direction of docs/ARCHITECTURE.md § Package map, checked by `npm run lint`.
// Workspace packages are imported as `@forgehand/<name>`; their node_modules symlinks resolve to
// the real folders (packages/<name>, apps/<name>), so the rules below name folders, not packages.
// Tests (*.test.ts) and test support (`testing/` folders, test/) may reach further; sources may not.
const TEST = "(\\.test\\.ts$|/testing/)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles, type-only ones included.",
      from: {},
      to: { circular: true },
    },
    {
      name: "packages-not-to-apps",
      severity: "error",
      comment: "packages/* are libraries: they never import an app.",
      from: { path: "^packages/", pathNot: TEST },
      to: { path: "^apps/" },
    },
    {
      name: "core-imports-no-workspace-package",
      severity: "error",
      comment: "packages/core is the bottom: it imports no other workspace package.",
      from: { path: "^packages/core/", pathNot: TEST },
      to: { path: "^(packages|apps)/", pathNot: "^packages/core/" },
    },
    {
      name: "supervisor-imports-only-core",
      severity: "error",
      comment: "packages/supervisor knows no forge and no queue: it imports only packages/core.",
      from: { path: "^packages/supervisor/", pathNot: TEST },
      to: { path: "^(packages|apps)/", pathNot: "^packages/(core|supervisor)/" },
    },
    {
      name: "forge-and-queue-import-only-core",
      severity: "error",
      comment: "packages/forge and packages/queue import only packages/core (and themselves).",
      from: { path: "^packages/(forge|queue)/", pathNot: TEST },
      to: { path: "^(packages|apps)/", pathNot: ["^packages/core/", "^packages/$1/"] },
    },
    {
      name: "only-cli-imports-apps",
      severity: "error",
      comment: "apps/cli is the one composition root; apps/webhook and apps/runner never import another app.",
      from: { path: "^apps/(webhook|runner)/", pathNot: TEST },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
  ],
  options: {
    includeOnly: "^(apps|packages|test|bench)/",
    exclude: { path: "(^|/)(node_modules|dist|fixtures)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      mainFields: ["main", "types"],
      extensions: [".ts", ".mts", ".js", ".mjs", ".cjs", ".json"],
    },
    cache: false,
  },
};
