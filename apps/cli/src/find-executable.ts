import { accessSync, constants, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Every `node_modules/.bin` from `dir` up to the filesystem root, nearest first. */
export function nodeModulesBins(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(join(d, "node_modules", ".bin"));
    if (dirname(d) === d) return out;
  }
}

/**
 * Resolves a program name the way the runner will: a path (relative to `baseDir`), or a name
 * looked up on PATH and then in `node_modules/.bin` above each of `searchDirs`.
 */
export function findExecutable(
  program: string,
  env: Record<string, string | undefined>,
  baseDir: string,
  searchDirs: string[] = [],
): string | undefined {
  if (program.includes("/")) {
    const path = isAbsolute(program) ? program : resolve(baseDir, program);
    return isExecutable(path) ? path : undefined;
  }
  const dirs = [
    ...(env.PATH ?? "").split(delimiter).filter(Boolean),
    ...[baseDir, ...searchDirs].flatMap(nodeModulesBins),
  ];
  for (const dir of dirs) {
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
