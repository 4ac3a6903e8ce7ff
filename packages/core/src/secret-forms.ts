import { MAX_ENCODED_SOURCE, MIN_SECRET_LENGTH } from "./redact-constants";

/** The value and the encodings it is likely to be printed in. */
export function secretForms(value: string, minLength = MIN_SECRET_LENGTH): string[] {
  const out = new Set<string>([value]);
  const trimmed = value.trim();
  if (trimmed !== value && trimmed.length >= minLength) out.add(trimmed);
  for (const v of [...out]) {
    out.add(JSON.stringify(v).slice(1, -1));
    const url = encodeURIComponent(v);
    out.add(url);
    out.add(url.replace(/%20/g, "+"));
    if (v.length <= MAX_ENCODED_SOURCE) {
      const bytes = Buffer.from(v, "utf8");
      for (const full of [bytes, Buffer.from(`x-access-token:${v}`, "utf8")]) {
        const b64 = full.toString("base64");
        out.add(b64);
        out.add(b64.replace(/=+$/, ""));
        out.add(full.toString("base64url"));
      }
      // base64(<k bytes of anything> + value + <anything>): the characters that depend on the value alone.
      for (let k = 0; k < 3; k++) {
        const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString("base64");
        const core = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
        if (core.length >= minLength) {
          out.add(core);
          out.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
        }
      }
    }
  }
  return [...out].filter((f) => f.length >= minLength);
}
