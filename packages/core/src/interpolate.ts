/** Result of replacing `${NAME}` references in a parsed YAML tree. */
export interface InterpolationResult<T> {
  value: T;
  /** Paths (dot notation) whose value referenced an unset variable, with the variable name. */
  missing: { path: string; name: string }[];
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of a parsed document.
 * Unset variables become "" and are reported, so `doctor` can name them without
 * stopping a bot whose example config mentions keys it does not use yet.
 */
export function interpolateEnv<T>(tree: T, env: Record<string, string | undefined>): InterpolationResult<T> {
  const missing: { path: string; name: string }[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === "string") {
      return node.replace(REF, (_all, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== "") return v;
        if (fallback !== undefined) return fallback;
        missing.push({ path, name });
        return "";
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`));
    if (node && typeof node === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, path ? `${path}.${k}` : k);
      return out;
    }
    return node;
  };
  return { value: walk(tree, "") as T, missing };
}
