#!/usr/bin/env node
// Runs the built CLI (npm start and the Docker image build it) unless any workspace source is
// newer than the bundle; then, or when there is no bundle, runs the TypeScript source through tsx.
// The freshness check keeps a forgotten dist/ from hiding source changes during development.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const built = join(here, "..", "dist", "main.js");

function newestSource(dir, limit) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && newestSource(path, limit)) return true;
    } else if (entry.name.endsWith(".ts") && statSync(path).mtimeMs > limit) return true;
  }
  return false;
}

function bundleIsFresh() {
  if (!existsSync(built)) return false;
  const limit = statSync(built).mtimeMs;
  for (const group of ["packages", "apps"]) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir)) if (newestSource(join(groupDir, name, "src"), limit)) return false;
  }
  return true;
}

if (bundleIsFresh()) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(here, "..", "src", "main.ts")).href);
}
