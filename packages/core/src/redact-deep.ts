export function deepMap(value: unknown, fn: (s: string) => string, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === "string") return fn(value);
  if (value === null || typeof value !== "object") return value;
  const hit = seen.get(value);
  if (hit !== undefined) return hit;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(deepMap(v, fn, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Error) {
      const copy = new Error(fn(value.message));
      copy.name = value.name;
      if (value.stack) copy.stack = fn(value.stack);
      seen.set(value, copy);
      return copy;
    }
    return value;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = deepMap(v, fn, seen);
  return out;
}
