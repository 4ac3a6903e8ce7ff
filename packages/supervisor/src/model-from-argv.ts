/**
 * The model an agent argv selects: `-m X`, `-mX`, `--model X`, `--model=X`, or codex's `-c model=X` /
 * `--config model="X"`. The last one wins, as in the CLIs' own parsers; undefined when none is given.
 */
export function modelFromArgv(argv: readonly string[]): string | undefined {
  let model: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if ((arg === "-m" || arg === "--model") && next !== undefined) {
      model = next;
      i++;
    } else if (arg.startsWith("--model=")) model = arg.slice("--model=".length);
    else if (/^-m[^-]/.test(arg)) model = arg.slice(2);
    else if ((arg === "-c" || arg === "--config") && next !== undefined) {
      const m = /^model\s*=\s*(.+)$/.exec(next);
      if (m) model = unquote((m[1] as string).trim());
      i++;
    }
  }
  return model && model.length <= 200 ? model : undefined;
}

/** codex parses `-c` values as TOML, so `model="gpt-5.5"` and `model=gpt-5.5` both name gpt-5.5. */
function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}
