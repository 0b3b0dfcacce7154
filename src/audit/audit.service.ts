// The audit log: who changed which metadata, relation or grant (before and after), who downloaded which file or
// exported what, who signed in and who failed to. Changes are written in the transaction of the change itself, so
// a committed edit always has its entry and a refused or rolled-back one never does.
import type { AppContext, Principal } from "../context.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import { log } from "../log.ts";
import { auditRepo, PRUNE_BATCH, type AuditRow } from "./audit.repo.ts";

/** Every action the log records, with the words the page shows for it. */
export const AUDIT_ACTIONS = {
  "metadata.edit": "Title or description changed",
  "tags.edit": "Tags changed",
  "relations.edit": "Parents changed",
  "access.grants": "Viewers or editors changed",
  "access.owner": "Owner reassigned",
  "file.download": "File downloaded",
  export: "Export written",
  "audit.export": "Audit log exported",
  signin: "Signed in",
  "signin.failed": "Sign-in refused",
  "signin.blocked": "Sign-ins blocked after failures",
  signout: "Signed out",
  "password.change": "Password changed",
  "token.create": "API token created",
  "token.revoke": "API token revoked",
} as const;

/** An action the log records; exports are named by what they wrote ("export.ome-zarr"). */
export type AuditAction = keyof typeof AUDIT_ACTIONS | `export.${string}`;

/** One thing to record. */
export interface AuditEntry {
  action: AuditAction;
  actor: string;
  datasetId?: number | null;
  target?: string | null;
  before?: unknown;
  after?: unknown;
  address?: string | null;
  detail?: Record<string, unknown> | null;
}

/** One entry as the API, the page and the CSV show it. */
export interface AuditItem {
  id: number;
  at: number;
  actor: string;
  action: string;
  datasetId: number | null;
  datasetPath: string | null;
  target: string | null;
  before: unknown;
  after: unknown;
  address: string | null;
  detail: Record<string, unknown> | null;
}

/** Per-instance state: when each repeated sign-in was last written, so scripts signing in per request log once an hour. */
export interface AuditState {
  lastWritten: Map<string, number>;
}

/** Fresh state for a new context. */
export function newAuditState(): AuditState {
  return { lastWritten: new Map() };
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Writes one entry now; call it inside the transaction of the change it records. */
export function recordAudit(ctx: AppContext, e: AuditEntry): void {
  auditRepo(ctx.db).insert(ctx.clock.now(), {
    actor: e.actor,
    action: e.action,
    datasetId: e.datasetId ?? null,
    target: e.target ?? null,
    before: json(e.before),
    after: json(e.after),
    address: e.address ?? null,
    detail: json(e.detail),
  });
}

/**
 * Writes an entry unless the same `key` was written within `windowMs`: HTTP Basic and Kerberos clients sign in on
 * every request, and a blocked guesser is refused thousands of times; one line per window says the same.
 */
function recordOnce(ctx: AppContext, key: string, windowMs: number, e: AuditEntry): void {
  const seen = ctx.services.audit.lastWritten;
  const now = ctx.clock.now();
  const last = seen.get(key);
  if (last !== undefined && now - last < windowMs) return;
  if (seen.size >= 10_000) for (const [k, at] of seen) if (now - at >= 3_600_000) seen.delete(k);
  if (seen.size >= 10_000) seen.clear();
  seen.set(key, now);
  recordAudit(ctx, e);
}

/** How a sign-in came: the login form, HTTP Basic, a Kerberos ticket, the current password of a password change. */
export type SignInVia = "form" | "basic" | "negotiate" | "password";

/**
 * Records a sign-in, a refusal or a block. Interactive ones (the form, a password change) and refused passwords (which
 * the throttle bounds) are written every time; sign-ins a script repeats on every request once an hour per account,
 * method and address; blocks once per 10 minutes; refused Kerberos tickets (not throttled) once a minute.
 */
export function auditSignIn(
  ctx: AppContext,
  action: "signin" | "signin.failed" | "signin.blocked",
  name: string,
  via: SignInVia,
  address: string,
  reason?: string,
): void {
  const e: AuditEntry = { action, actor: name, target: via, address, detail: reason ? { reason } : null };
  try {
    if (action === "signin.blocked") recordOnce(ctx, `${action}\0${name}\0${address}`, 600_000, e);
    else if (via === "form" || via === "password" || (action === "signin.failed" && via !== "negotiate")) recordAudit(ctx, e);
    else recordOnce(ctx, `${action}\0${name}\0${via}\0${address}`, action === "signin" ? 3_600_000 : 60_000, e);
  } catch (err) {
    // A sign-in is never refused because its log line could not be written (a full disk says so elsewhere).
    log.error("audit: sign-in not recorded", { name, action, error: String(err) });
  }
}

/**
 * Records a download of a file's content. A ranged read counts only when it starts at the beginning, so a viewer
 * fetching a large file in pieces is one download, not hundreds.
 */
export function auditDownload(ctx: AppContext, user: Principal, datasetId: number, file: string, address: string, range: string | undefined): void {
  if (range !== undefined && !/^bytes=0-/.test(range.trim())) return;
  try {
    recordAudit(ctx, { action: "file.download", actor: user.name, datasetId, target: file, address, detail: range ? { range } : null });
  } catch (err) {
    // The file is still served when its line cannot be written (a full disk is reported by health and refuses edits).
    log.error("audit: download not recorded", { datasetId, file, actor: user.name, error: String(err) });
  }
}

/** Filters of a listing or an export, as the API and the page take them. */
export interface AuditFilters {
  datasetId?: number;
  actor?: string;
  action?: string;
  from?: number;
  to?: number;
}

/**
 * A time filter: ms since the epoch, an ISO 8601 time, or a date alone (UTC), which as the end of a range takes in
 * that whole day. Anything else is refused naming the parameter.
 */
function parseTime(text: string | undefined, name: string, end: boolean): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (/^\d{1,15}$/.test(t)) return Number(t);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(t);
  const ms = Date.parse(dateOnly ? `${t}T00:00:00Z` : t);
  if (!Number.isFinite(ms)) throw badRequest(`${name} must be a date (2026-12-04), an ISO 8601 time or ms since the epoch, got ${JSON.stringify(t)}`);
  return dateOnly && end ? ms + 86_400_000 : ms;
}

/** The filters of a request's query, checked. */
export function auditFilters(q: { dataset?: number; actor?: string; action?: string; from?: string; to?: string }): AuditFilters {
  const f: AuditFilters = { datasetId: q.dataset, actor: q.actor?.trim() || undefined, action: q.action?.trim() || undefined };
  f.from = parseTime(q.from, "from", false);
  f.to = parseTime(q.to, "to", true);
  if (f.from !== undefined && f.to !== undefined && f.from >= f.to) throw badRequest("from must be before to");
  return f;
}

/**
 * Checks what `viewer` may see: admins everything; anyone else the history of the datasets they own and their own
 * sign-ins. Asking for another owner's dataset is refused rather than answered with an empty list.
 */
function scope(ctx: AppContext, viewer: Principal, f: AuditFilters): string | null {
  if (f.datasetId !== undefined) {
    const owner = auditRepo(ctx.db).ownerOf(f.datasetId);
    if (owner === undefined) throw notFound(`No dataset ${f.datasetId}`);
    if (!viewer.isAdmin && owner !== viewer.name) throw forbidden("Only the dataset's owner and admins see its history");
  }
  return viewer.isAdmin ? null : viewer.name;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function item(r: AuditRow): AuditItem {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    datasetId: r.dataset_id,
    datasetPath: r.dataset_path,
    target: r.target,
    before: parseJson(r.before),
    after: parseJson(r.after),
    address: r.address,
    detail: parseJson(r.detail) as Record<string, unknown> | null,
  };
}

/** A page of entries, newest first, and the cursor of the next (older) page or null at the end. */
export function listAudit(ctx: AppContext, viewer: Principal, f: AuditFilters, limit: number, beforeId?: number): { items: AuditItem[]; next: number | null } {
  const rows = auditRepo(ctx.db).find({ ownedBy: scope(ctx, viewer, f), ...f, beforeId, limit: limit + 1 });
  const items = rows.slice(0, limit).map(item);
  return { items, next: rows.length > limit ? items.at(-1)!.id : null };
}

const CSV_COLUMNS = ["id", "time_utc", "actor", "action", "dataset_id", "dataset_path", "target", "before", "after", "address", "detail"];

/** One CSV cell: quoted when needed; text a spreadsheet would run as a formula gets a leading apostrophe. */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(i: AuditItem): string {
  return (
    [i.id, new Date(i.at).toISOString(), i.actor, i.action, i.datasetId, i.datasetPath, i.target, i.before, i.after, i.address, i.detail].map(cell).join(",") +
    "\r\n"
  );
}

/**
 * Every entry matching the filters as CSV, newest first, read a thousand rows at a time as the client takes them
 * (memory stays bounded however long the log). The export itself is recorded first.
 */
export function exportAuditCsv(ctx: AppContext, viewer: Principal, f: AuditFilters, address: string): ReadableStream<Uint8Array> {
  const ownedBy = scope(ctx, viewer, f);
  recordAudit(ctx, { action: "audit.export", actor: viewer.name, datasetId: f.datasetId ?? null, address, detail: { filters: f } });
  const repo = auditRepo(ctx.db);
  const enc = new TextEncoder();
  let beforeId: number | undefined;
  let started = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(enc.encode(CSV_COLUMNS.join(",") + "\r\n"));
      }
      const rows = repo.find({ ownedBy, ...f, beforeId, limit: 1000 });
      if (rows.length === 0) return controller.close();
      controller.enqueue(enc.encode(rows.map((r) => csvLine(item(r))).join("")));
      beforeId = rows.at(-1)!.id;
      if (rows.length < 1000) controller.close();
    },
  });
}

/** Removes entries older than `[audit] keep`, a batch at a time with a pause between, so requests keep flowing. */
async function prune(ctx: AppContext, keepMs: number, stopped: () => boolean): Promise<number> {
  const repo = auditRepo(ctx.db);
  const before = ctx.clock.now() - keepMs;
  let removed = 0;
  while (!stopped()) {
    const n = repo.pruneBatch(before);
    removed += n;
    if (n < PRUNE_BATCH) break;
    await Bun.sleep(20);
  }
  return removed;
}

const PRUNE_EVERY_MS = 6 * 3_600_000;

/** Starts the retention schedule (a minute after the start, then every 6 hours); returns its stop. */
export function startAuditRetention(ctx: AppContext): () => void {
  const keepMs = ctx.config.auditKeepMs;
  if (keepMs === null) return () => {};
  let stopped = false;
  let timer: ReturnType<typeof setTimeout>;
  const run = async () => {
    try {
      const removed = await prune(ctx, keepMs, () => stopped);
      if (removed) log.info("audit: old entries removed", { removed, keepDays: Math.round(keepMs / 86_400_000) });
    } catch (e) {
      log.error("audit: pruning failed", { error: String(e) });
    }
    if (!stopped) timer = setTimeout(() => void run(), PRUNE_EVERY_MS);
  };
  timer = setTimeout(() => void run(), 60_000);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Runs one pruning pass now (the retention test, and `serve` through the schedule). */
export const pruneAudit = (ctx: AppContext): Promise<number> =>
  ctx.config.auditKeepMs === null ? Promise.resolve(0) : prune(ctx, ctx.config.auditKeepMs, () => false);
