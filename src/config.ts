import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { cpus, totalmem } from "node:os";

/** A rule that runs an action when files matching `glob` are added or changed in a dataset. */
export interface FileRule {
  /** Which changed files the rule is about; an action without one takes the files its own job kind reads. */
  glob?: string;
  /** A built-in action name, e.g. "preview". */
  action?: string;
  /** An external command (argv); it gets MATA_DATASET_PATH and the changed files as arguments. */
  command?: string[];
  /** An external plug-in (argv): JSON about the dataset on stdin, JSON tags on stdout, written under `subtree`. */
  plugin?: string[];
  /** The top-level tag key a plug-in's tags are written under (required with `plugin`). */
  subtree?: string;
  timeoutSeconds: number;
}

/** Everything `mata` can be configured with, after defaults, file, env and flags are merged. */
export interface Config {
  root: string;
  state: string;
  host: string;
  port: number;
  depth: number;
  auth: "local" | "pam";
  /** True when no root was configured: `serve` then seeds the demo root under ./mata-data. */
  demo: boolean;
  reconcileMinutes: number;
  debounceMs: number;
  /** How long a file's size and mtime must stay unchanged before it is processed. */
  stableMs: number;
  jobConcurrency: number;
  /** `web_threads`: threads answering on the web port (src/serving/web-threads.ts); 1 serves from the main thread alone. */
  webThreads: number;
  /** `preview_memory_mb`: what the preview builds running at once may take together, in bytes (src/preview/memory-budget.ts). */
  previewMemory: number;
  rules: FileRule[];
  tls?: { cert: string; key: string };
  kerberos?: { keytab: string; service?: string };
  /** With the pam backend, members of this unix group are admins. */
  adminGroup: string;
  /** Write grants to the share as POSIX ACLs. */
  acls: boolean;
  /**
   * `user`: the unprivileged account `serve` runs the web, the watcher, the parsers and the tiler as when started as
   * root; a small root helper keeps only what needs privilege (src/privilege/). Unset: one process, as started.
   */
  user?: string;
  /** `[backup]`: online copies of the database on a schedule, the newest `keep` kept (off unless `every` is set). */
  backup?: BackupSchedule;
  /**
   * `[fixity] every`: how often every file is read again and compared with its recorded SHA-256 (default "7d"; env
   * MATA_FIXITY_EVERY); "off" stops fixity altogether. New files are hashed once their dataset settles either way.
   */
  fixityEveryMs: number | null;
  /**
   * `[audit] keep`: how long audit log entries are kept (default "365d"; env MATA_AUDIT_KEEP); "forever" never
   * removes them. Older entries are removed every few hours.
   */
  auditKeepMs: number | null;
  /** The PAM service (a file in `pam_confdir`, default /etc/pam.d) that checks passwords with auth "pam". */
  pamService: string;
  pamConfdir?: string;
  /** `metrics_token`: a bearer secret that lets a scraper read `/metrics` without an account (unset: admins only). */
  metricsToken?: string;
  /** Caps on what one preview may cost, checked from headers before anything is allocated (src/preview/limits.ts). */
  limits: PreviewLimits;
  configFile?: string;
}

/**
 * Caps on one preview build. A file's header may claim any size (a few MB of gzip-compressed zeros can claim
 * 4096^3 voxels), so each is checked before a buffer is allocated or a tile written; a build over one fails with a
 * message naming the setting to raise.
 */
export interface PreviewLimits {
  /** `max_voxels`: width x height x depth of one volume (default 2^37). */
  maxVoxels: number;
  /** `max_tiles`: tiles of one volume's pyramid, every level and orientation (default 2,000,000). */
  maxTiles: number;
  /** `max_triangles`: triangles of one mesh file (default 50,000,000). */
  maxTriangles: number;
  /** `max_vertices`: vertices of one mesh file, as stored (OBJ) or welded (default 30,000,000). */
  maxVertices: number;
}

/** When and where `serve` backs up the database by itself. */
export interface BackupSchedule {
  /** `every`: "30m", "12h", "1d" (s, m, h, d). */
  everyMs: number;
  /** `keep`: how many of the newest copies stay (default 14); older ones are removed. */
  keep: number;
  /** `folder`: where the copies go (default `<state>/backups`). */
  folder: string;
}

/** The preview caps when nothing is configured. */
export const DEFAULT_LIMITS: PreviewLimits = { maxVoxels: 2 ** 37, maxTiles: 2_000_000, maxTriangles: 50_000_000, maxVertices: 30_000_000 };

/** The settings a caller may give as flags (already parsed, as strings). */
export type ConfigFlags = Partial<Record<"root" | "state" | "listen" | "depth" | "auth" | "config", string>>;

/** Thrown for a bad setting; the message names the setting and where it came from. */
export class ConfigError extends Error {}

const DEFAULT_RULES: FileRule[] = [
  // No glob: previews follow the files the readers themselves read (src/preview/readers/detect.ts isVolumeInput).
  { action: "preview", timeoutSeconds: 3600 },
  // Metadata extraction into the `Scan` and `Image` tags (src/extract/), over the same files and SkyScan logs.
  { action: "extract", timeoutSeconds: 600 },
];

/** Merges flags over env over the config file over defaults, and validates the result. */
export function loadConfig(flags: ConfigFlags = {}, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  const configFile = flags.config ?? env.MATA_CONFIG;
  const file = configFile ? readConfigFile(path.resolve(cwd, configFile)) : {};
  const pick = (flag: string | undefined, envName: string, key: string): { value: unknown; from: string } | undefined => {
    if (flag !== undefined) return { value: flag, from: `--${key}` };
    if (env[envName] !== undefined && env[envName] !== "") return { value: env[envName], from: envName };
    if (file[key] !== undefined) return { value: file[key], from: `${configFile}: ${key}` };
    return undefined;
  };

  const rootSetting = pick(flags.root, "MATA_ROOT", "root");
  const stateSetting = pick(flags.state, "MATA_STATE", "state");
  const demo = rootSetting === undefined;
  const root = path.resolve(cwd, str(rootSetting, "mata-data/root"));
  const state = path.resolve(cwd, str(stateSetting, demo ? "mata-data/state" : "mata-data/state"));

  const listen = pick(flags.listen, "MATA_LISTEN", "listen");
  const { host, port } = parseListen(str(listen, "127.0.0.1:8080"), listen?.from ?? "default");

  const depthS = pick(flags.depth, "MATA_DEPTH", "depth");
  const depth = int(depthS, 1, 1, 8);
  const authS = pick(flags.auth, "MATA_AUTH", "auth");
  const auth = str(authS, "local");
  if (auth !== "local" && auth !== "pam") throw new ConfigError(`${authS?.from}: auth must be "local" or "pam", got ${JSON.stringify(auth)}`);

  const num = (key: string, envName: string, def: number, min: number, max: number) => int(pick(undefined, envName, key), def, min, max);
  const rules = file.rules === undefined ? DEFAULT_RULES : parseRules(file.rules, configFile ?? "");
  const tls = file.tls === undefined ? undefined : parseTls(file.tls, configFile ?? "");
  const kerberos = file.kerberos === undefined ? undefined : parseKerberos(file.kerberos, configFile ?? "");
  const backup = file.backup === undefined ? undefined : parseBackup(file.backup, configFile ?? "", state, cwd);
  // A setting of a [table] in the file, which an environment variable overrides.
  const tableSetting = (table: string, key: string, envName: string): { value: unknown; from: string } | undefined => {
    if (env[envName] !== undefined && env[envName] !== "") return { value: env[envName], from: envName };
    const t = file[table];
    if (t === undefined) return undefined;
    if (typeof t !== "object" || t === null || Array.isArray(t)) throw new ConfigError(`${configFile}: ${table} must be a table`);
    const v = (t as Record<string, unknown>)[key];
    return v === undefined ? undefined : { value: v, from: `${configFile}: ${table}.${key}` };
  };
  const fixityS = tableSetting("fixity", "every", "MATA_FIXITY_EVERY");
  const fixityText = str(fixityS, "7d");
  const fixityEveryMs = fixityText === "off" ? null : parseDuration(fixityText, fixityS?.from ?? "fixity.every");
  const auditS = tableSetting("audit", "keep", "MATA_AUDIT_KEEP");
  const auditText = str(auditS, "365d");
  const auditKeepMs = auditText === "forever" ? null : parseDuration(auditText, auditS?.from ?? "audit.keep");
  return {
    root,
    state,
    host,
    port,
    depth,
    auth,
    demo,
    reconcileMinutes: num("reconcile_minutes", "MATA_RECONCILE_MINUTES", 60, 0, 10080),
    debounceMs: num("debounce_ms", "MATA_DEBOUNCE_MS", 500, 0, 600_000),
    stableMs: num("stable_ms", "MATA_STABLE_MS", 1000, 0, 600_000),
    jobConcurrency: num("job_concurrency", "MATA_JOB_CONCURRENCY", Math.max(1, cpus().length), 1, 256),
    webThreads: num("web_threads", "MATA_WEB_THREADS", Math.min(4, Math.max(1, cpus().length)), 1, 64),
    // Default: 40% of the machine's memory, at most 4 GiB (two 4k builds, or one 8k build, at once).
    previewMemory: num("preview_memory_mb", "MATA_PREVIEW_MEMORY_MB", Math.min(4096, Math.floor((totalmem() * 0.4) / 2 ** 20)), 256, 2 ** 24) * 2 ** 20,
    rules,
    tls,
    kerberos,
    backup,
    fixityEveryMs,
    auditKeepMs,
    acls: bool(pick(undefined, "MATA_ACLS", "acls"), true),
    limits: {
      maxVoxels: num("max_voxels", "MATA_MAX_VOXELS", DEFAULT_LIMITS.maxVoxels, 1, 2 ** 50),
      maxTiles: num("max_tiles", "MATA_MAX_TILES", DEFAULT_LIMITS.maxTiles, 1, 2 ** 40),
      maxTriangles: num("max_triangles", "MATA_MAX_TRIANGLES", DEFAULT_LIMITS.maxTriangles, 1, 2 ** 32),
      maxVertices: num("max_vertices", "MATA_MAX_VERTICES", DEFAULT_LIMITS.maxVertices, 1, 2 ** 32),
    },
    adminGroup: str(pick(undefined, "MATA_ADMIN_GROUP", "admin_group"), "mata-admins"),
    user: optionalName(pick(undefined, "MATA_USER", "user")),
    pamService: str(pick(undefined, "MATA_PAM_SERVICE", "pam_service"), "mata"),
    pamConfdir: optionalPath(pick(undefined, "MATA_PAM_CONFDIR", "pam_confdir"), cwd),
    metricsToken: optionalSecret(pick(undefined, "MATA_METRICS_TOKEN", "metrics_token")),
    configFile: configFile ? path.resolve(cwd, configFile) : undefined,
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  const text = readFileSync(file, "utf8");
  try {
    const parsed = file.endsWith(".json") ? JSON.parse(text) : Bun.TOML.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a table");
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith(".json") ? "JSON" : "TOML"}: ${(e as Error).message}`);
  }
}

function str(s: { value: unknown; from: string } | undefined, def: string): string {
  if (s === undefined) return def;
  if (typeof s.value !== "string" || s.value.trim() === "") throw new ConfigError(`${s.from}: expected a non-empty string`);
  return s.value;
}

/** A unix account name, or undefined when not set. */
function optionalName(s: { value: unknown; from: string } | undefined): string | undefined {
  if (s === undefined) return undefined;
  const v = str(s, "");
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(v)) throw new ConfigError(`${s.from}: expected a unix account name, got ${JSON.stringify(v)}`);
  return v;
}

/** A shared secret long enough not to be guessed (16 characters or more), or undefined when not set. */
function optionalSecret(s: { value: unknown; from: string } | undefined): string | undefined {
  if (s === undefined) return undefined;
  const v = str(s, "");
  if (v.length < 16 || /\s/.test(v)) throw new ConfigError(`${s.from}: expected a secret of at least 16 characters without spaces`);
  return v;
}

function optionalPath(s: { value: unknown; from: string } | undefined, cwd: string): string | undefined {
  return s === undefined ? undefined : path.resolve(cwd, str(s, ""));
}

function int(s: { value: unknown; from: string } | undefined, def: number, min: number, max: number): number {
  if (s === undefined) return def;
  const n = typeof s.value === "number" ? s.value : /^-?\d+$/.test(String(s.value).trim()) ? Number(s.value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${s.from}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(s.value)}`);
  return n;
}

function bool(s: { value: unknown; from: string } | undefined, def: boolean): boolean {
  if (s === undefined) return def;
  if (typeof s.value === "boolean") return s.value;
  const v = String(s.value).toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${s.from}: expected true or false, got ${JSON.stringify(s.value)}`);
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT); port 0 asks the OS for a free one. */
export function parseListen(value: string, from: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${from}: listen must be HOST:PORT (e.g. 127.0.0.1:8080), got ${JSON.stringify(value)}`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseRules(v: unknown, from: string): FileRule[] {
  if (!Array.isArray(v)) throw new ConfigError(`${from}: rules must be a list of tables`);
  return v.map((r, i) => {
    const where = `${from}: rules[${i}]`;
    if (typeof r !== "object" || r === null) throw new ConfigError(`${where} must be a table`);
    const o = r as Record<string, unknown>;
    const hasAction = typeof o.action === "string" && o.action !== "";
    const hasCommand = Array.isArray(o.command) && o.command.length > 0 && o.command.every((a) => typeof a === "string");
    const hasPlugin = Array.isArray(o.plugin) && o.plugin.length > 0 && o.plugin.every((a) => typeof a === "string");
    if (Number(hasAction) + Number(hasCommand) + Number(hasPlugin) !== 1)
      throw new ConfigError(`${where} needs exactly one of action (a name), command or plugin (a list of strings)`);
    if (hasPlugin) pluginSubtree(o.subtree, where, v);
    // A built-in action knows which files concern it; a command or plug-in must say.
    if (o.glob !== undefined || hasCommand || hasPlugin) {
      if (typeof o.glob !== "string" || !o.glob) throw new ConfigError(`${where}.glob must be a non-empty string`);
    }
    const timeout = o.timeout_seconds ?? 600;
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 86400)
      throw new ConfigError(`${where}.timeout_seconds must be a whole number from 1 to 86400`);
    return {
      glob: o.glob as string | undefined,
      action: hasAction ? (o.action as string) : undefined,
      command: hasCommand ? (o.command as string[]) : undefined,
      ...(hasPlugin ? { plugin: o.plugin as string[], subtree: (o.subtree as string).trim() } : {}),
      timeoutSeconds: timeout,
    };
  });
}

/** A plug-in's subtree: a tag key of its own, neither a built-in extractor's (`Scan`, `Image`) nor another plug-in's. */
function pluginSubtree(v: unknown, where: string, rules: unknown[]): void {
  const key = typeof v === "string" ? v.trim() : "";
  if (!key || key.length > 200 || /[\u0000-\u001f\u007f]/.test(key))
    throw new ConfigError(`${where}.subtree must be a tag key (plain text, 1 to 200 characters)`);
  if (["scan", "image"].includes(key.toLowerCase())) throw new ConfigError(`${where}.subtree "${key}" belongs to the built-in extractors`);
  const same = rules.filter((r) => typeof (r as Record<string, unknown>)?.subtree === "string" && ((r as Record<string, string>).subtree ?? "").trim() === key);
  if (same.length > 1) throw new ConfigError(`${where}.subtree "${key}" is used by another plug-in rule: each needs its own`);
}

function parseTls(v: unknown, from: string): Config["tls"] {
  const o = v as Record<string, unknown>;
  if (typeof o?.cert !== "string" || typeof o?.key !== "string") throw new ConfigError(`${from}: tls needs cert and key (file paths)`);
  return { cert: o.cert, key: o.key };
}

function parseKerberos(v: unknown, from: string): Config["kerberos"] {
  const o = v as Record<string, unknown>;
  if (typeof o?.keytab !== "string") throw new ConfigError(`${from}: kerberos needs keytab (a file path)`);
  return { keytab: o.keytab, service: typeof o.service === "string" ? o.service : undefined };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "12h", "7d" (s, m, h, d) in milliseconds; anything else is an error naming `what`. */
function parseDuration(v: unknown, what: string): number {
  const m = typeof v === "string" ? /^(\d{1,6})([smhd])$/.exec(v.trim()) : null;
  if (!m || Number(m[1]) === 0) throw new ConfigError(`${what} must be a duration such as "30m", "12h" or "1d", got ${JSON.stringify(v)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

function parseBackup(v: unknown, from: string, state: string, cwd: string): BackupSchedule | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(`${from}: backup must be a table`);
  const o = v as Record<string, unknown>;
  if (o.every === undefined) return undefined;
  const everyMs = parseDuration(o.every, `${from}: backup.every`);
  const keep = o.keep ?? 14;
  if (typeof keep !== "number" || !Number.isInteger(keep) || keep < 1 || keep > 10_000)
    throw new ConfigError(`${from}: backup.keep must be a whole number from 1 to 10000`);
  if (o.folder !== undefined && (typeof o.folder !== "string" || o.folder === "")) throw new ConfigError(`${from}: backup.folder must be a folder path`);
  return { everyMs, keep, folder: path.resolve(cwd, (o.folder as string | undefined) ?? path.join(state, "backups")) };
}
