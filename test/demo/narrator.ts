/** Prints demo steps with the elapsed time, so a new user can follow the loop as it happens. */
export function createNarrator(out: NodeJS.WriteStream = process.stdout) {
  const started = Date.now();
  const colour = out.isTTY && !process.env.NO_COLOR;
  const paint = (code: string, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const stamp = () => paint("2", `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`);
  return {
    elapsedMs: () => Date.now() - started,
    banner(lines: string[]) {
      const width = Math.max(...lines.map((l) => l.length)) + 4;
      out.write(`${paint("1;36", `╔${"═".repeat(width)}╗`)}\n`);
      for (const line of lines) out.write(`${paint("1;36", "║")}  ${line.padEnd(width - 2)}${paint("1;36", "║")}\n`);
      out.write(`${paint("1;36", `╚${"═".repeat(width)}╝`)}\n`);
    },
    step: (text: string) => out.write(`${stamp()} ${paint("1", "▶")} ${text}\n`),
    detail: (text: string) => out.write(`${stamp()}   ${paint("2", text)}\n`),
    ok: (text: string) => out.write(`${stamp()} ${paint("32", "✔")} ${text}\n`),
    fail: (text: string) => out.write(`${stamp()} ${paint("31", "✘")} ${text}\n`),
    block(title: string, body: string) {
      out.write(`\n${paint("1", title)}\n`);
      for (const line of body.split("\n")) out.write(`  ${paint("2", "│")} ${line}\n`);
      out.write("\n");
    },
  };
}

export type Narrator = ReturnType<typeof createNarrator>;
