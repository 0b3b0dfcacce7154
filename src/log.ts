// Logs on stderr: readable lines on a terminal, one JSON object per line otherwise (journald, files, pipes);
// `--log json|text` or MATA_LOG_FORMAT choose, MATA_LOG (debug|info|warn|error) sets the level.
type Level = "debug" | "info" | "warn" | "error";
/** How log lines are written. */
export type LogFormat = "json" | "text";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = ORDER[(process.env.MATA_LOG as Level) ?? "info"] ?? ORDER.info;
let format: LogFormat =
  process.env.MATA_LOG_FORMAT === "json" || process.env.MATA_LOG_FORMAT === "text" ? process.env.MATA_LOG_FORMAT : process.stderr.isTTY ? "text" : "json";

/** Sets the lowest level written. */
export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

/** Chooses JSON lines or readable text, whatever stderr is. */
export function setLogFormat(f: LogFormat): void {
  format = f;
}

/** A field value as a person reads it: bare when it has no spaces or quotes, else JSON-quoted. */
function show(v: unknown): string {
  return typeof v === "string" && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/** One readable line: time, level, message and key=value fields; a stack goes on the lines below, indented. */
export function textLine(t: Date, level: Level, msg: string, fields: Record<string, unknown> = {}): string {
  const { stack, ...rest } = fields;
  const kv = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(" ");
  const head = `${t.toISOString().slice(11, 19)} ${level.padEnd(5)} ${msg}${kv ? `  ${kv}` : ""}`;
  return typeof stack === "string" ? `${head}\n${stack.replace(/^/gm, "    ")}` : head;
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const t = new Date();
  const line = format === "json" ? JSON.stringify({ t: t.toISOString(), level, msg, ...fields }) : textLine(t, level, msg, fields);
  process.stderr.write(line + "\n");
}

export const log = {
  debug: (msg: string, f?: Record<string, unknown>) => emit("debug", msg, f),
  info: (msg: string, f?: Record<string, unknown>) => emit("info", msg, f),
  warn: (msg: string, f?: Record<string, unknown>) => emit("warn", msg, f),
  error: (msg: string, f?: Record<string, unknown>) => emit("error", msg, f),
};
