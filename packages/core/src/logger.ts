/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** A small injected logger: a static message plus metadata, children add bindings. */
export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** `json` writes one JSON object per line; `pretty` writes `time level msg k=v`. @defaultValue pretty on a TTY, else json */
  format?: "json" | "pretty";
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
  /** Applied to every formatted line before it is written, e.g. `createRedactor(collectSecrets(…)).redact`. */
  redact?: (line: string) => string;
}

/** Creates a logger writing to stderr (so stdout stays free for command output). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? ((process.env.LOG_LEVEL as LogLevel | undefined) || "info");
  const min = ORDER[level] ?? ORDER.info;
  const format = options.format ?? (process.stderr.isTTY ? "pretty" : "json");
  const sink = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const redact = options.redact;
  const write = redact ? (line: string) => sink(redact(line)) : sink;
  return new BoundLogger({ min, format, write }, options.bindings ?? {});
}

interface Sink {
  min: number;
  format: "json" | "pretty";
  write: (line: string) => void;
}

/**
 * Children share their parent's sink and only add bindings, so `child()` costs one small object;
 * when the level drops everything it costs nothing (the webhook calls it twice per delivery).
 */
class BoundLogger implements Logger {
  constructor(
    private readonly sink: Sink,
    private readonly bindings: Record<string, unknown>,
  ) {}
  debug(msg: string, meta?: Record<string, unknown>) {
    this.emit("debug", msg, meta);
  }
  info(msg: string, meta?: Record<string, unknown>) {
    this.emit("info", msg, meta);
  }
  warn(msg: string, meta?: Record<string, unknown>) {
    this.emit("warn", msg, meta);
  }
  error(msg: string, meta?: Record<string, unknown>) {
    this.emit("error", msg, meta);
  }
  child(extra: Record<string, unknown>): Logger {
    if (this.sink.min > ORDER.error) return this;
    return new BoundLogger(this.sink, { ...this.bindings, ...extra });
  }
  private emit(lvl: Exclude<LogLevel, "silent">, msg: string, meta?: Record<string, unknown>) {
    const { min, format, write } = this.sink;
    if (ORDER[lvl] < min) return;
    const all = { ...this.bindings, ...meta };
    if (format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all }, errorReplacer));
    } else {
      const kv = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, errorReplacer)}`)
        .join(" ");
      write(`${new Date().toISOString().slice(11, 23)} ${lvl.toUpperCase().padEnd(5)} ${msg}${kv ? ` ${kv}` : ""}`);
    }
  }
}

function errorReplacer(_key: string, value: unknown) {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: "silent" });
