// One reconcile: look at the dataset folders in some scopes, decide identities, apply them, then each
// dataset's files. The structural step is one transaction; each dataset's files are one more.
import type { AppContext } from "../context.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { log } from "../log.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { reconcileDatasetFiles, type StableCheck } from "./dataset-files.ts";
import { lstatOrNull } from "./fs.ts";
import { fsPath } from "./names.ts";
import { resolve, type Action, type Observed } from "./resolve.ts";
import { newUid, readIdentity, sidecarDir, sweepSidecar, writeIdentity, writeMetadataMirror } from "./sidecar.ts";
import { emptySummary, type SyncSummary } from "./summary.ts";
import { syncRepo, type SyncDatasetRow, type SyncRepo, type SyncTagRow } from "./sync.repo.ts";
import { listDatasetFolders, type WalkStats } from "./walk.ts";

/** Options of a reconcile run. */
export interface ReconcileOptions {
  /** Watcher runs pass this so a file still being written is left as it was until it is stable. */
  isStable?: StableCheck;
  /** `mata rebuild`: a dataset new to the database takes the id its identity records, when that id is free. */
  adoptIds?: boolean;
  /**
   * Watcher runs: for a dataset folder (by path) that stays where it was, only these paths below it changed, so only
   * they are looked at; a dataset not named here is walked whole.
   */
  paths?: Map<string, string[]>;
  /** A stopping server: the run ends after the dataset it is on (each dataset's files are their own transaction). */
  signal?: AbortSignal;
}

/**
 * Trims scopes to at most `depth` path parts and drops those inside another; "" is the whole root.
 * A scope is a dataset folder path or a folder above the dataset level.
 */
export function normalizeScopes(scopes: string[], depth: number): string[] {
  const trimmed = [...new Set(scopes.map((s) => s.split("/").filter(Boolean).slice(0, depth).join("/")))].sort();
  if (trimmed.includes("")) return [""];
  return trimmed.filter((s) => !trimmed.some((o) => o !== s && s.startsWith(`${o}/`)));
}

const inScope = (scopes: string[], p: string) => scopes.some((s) => s === "" || p === s || p.startsWith(`${s}/`));

/** Reconciles the whole root: every dataset folder and every file. */
export function reconcileAll(ctx: AppContext, opts: ReconcileOptions = {}): Promise<SyncSummary> {
  return reconcileScopes(ctx, [""], opts);
}

/** Reconciles the dataset folders in `scopes` (see normalizeScopes), yielding to the event loop between datasets. */
export async function reconcileScopes(ctx: AppContext, scopes: string[], opts: ReconcileOptions = {}, attempt = 1): Promise<SyncSummary> {
  const started = performance.now();
  const { root, depth } = ctx.config;
  const repo = syncRepo(ctx.db);
  const summary = emptySummary();
  const norm = normalizeScopes(scopes, depth);

  // An unmounted or vanished root must not turn every dataset into a missing one.
  if (!lstatOrNull(root)?.isDirectory()) throw new Error(`root ${root} is not a folder (not mounted?): nothing reconciled`);
  const folders: Observed[] = [];
  const rowsById = new Map<number, SyncDatasetRow>();
  const seen = new Set<string>();
  const unreadable: string[] = [];
  for (const scope of norm) {
    for (const f of listDatasetFolders(root, depth, scope, summary.errors, unreadable)) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      sweepSidecar(f.abs);
      folders.push({ ...f, identity: readIdentity(f.abs) });
    }
    for (const r of repo.presentInScope(scope)) rowsById.set(r.id, r);
  }
  // Datasets below a folder that cannot be read now are left as they were, not marked missing.
  for (const [id, r] of rowsById) if (unreadable.some((u) => u === "" || r.path === u || r.path.startsWith(`${u}/`))) rowsById.delete(id);
  const holdsOutside = (row: SyncDatasetRow) => !inScope(norm, row.path) && readIdentity(fsPath(root, row.path))?.uid === row.uid;
  const plan = resolve(repo, folders, [...rowsById.values()], newUid, holdsOutside);

  const sidecarErrors = new Map<string, string>();
  await prepareSidecars(ctx, plan.actions, sidecarErrors);
  writeSidecarsFirst(ctx, repo, plan.actions, sidecarErrors);
  let ids: Map<string, number>;
  try {
    ids = applyStructure(ctx, repo, plan.actions, plan.missing, summary, opts.adoptIds === true);
  } catch (e) {
    // Another process (`mata scan` beside `mata serve`) committed a dataset at one of these paths meanwhile: look again.
    if (attempt < 3 && String((e as { code?: string }).code ?? "").startsWith("SQLITE_CONSTRAINT")) {
      log.warn("reconcile raced another writer; looking again", { error: String(e) });
      return reconcileScopes(ctx, scopes, opts, attempt + 1);
    }
    throw e;
  }

  recordIds(plan.actions, ids, sidecarErrors);

  let lastYield = performance.now();
  for (const a of plan.actions) {
    if (opts.signal?.aborted) break;
    const id = ids.get(a.folder.path)!;
    const err = sidecarErrors.get(a.folder.path);
    const stayed = a.kind === "keep" && a.row.path === a.folder.path && a.row.state === "present";
    const paths = stayed && !err ? opts.paths?.get(a.folder.path) : undefined;
    const walk: WalkStats = { maxCtimeMs: 0, uids: new Set() };
    const unstable = await reconcileDatasetFiles(ctx, repo, id, a.folder.abs, err ? [err] : [], summary, { isStable: opts.isStable, paths, stats: walk });
    if (unstable) summary.retry.push(a.folder.path);
    summary.datasets.present += 1;
    // Drift checks need the whole folder walked; a run over named paths leaves them to the next whole one.
    if (paths) continue;
    for (const listener of ctx.hooks.datasetSeen) {
      try {
        listener({ datasetId: id, path: a.folder.path, walk });
      } catch (e) {
        log.error("datasetSeen listener failed", { datasetId: id, error: String(e) });
      }
    }
    if (performance.now() - lastYield > 20) {
      await new Promise<void>((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }
  summary.ms = Math.round(performance.now() - started);
  return summary;
}

/**
 * A privilege-separated server cannot create `.mata/` in a dataset folder (the folder is its owner's): the root helper
 * makes it, owned by the server, once per folder that lacks it or holds one the server does not own.
 */
async function prepareSidecars(ctx: AppContext, actions: Action[], errors: Map<string, string>): Promise<void> {
  const { privileged } = ctx.services;
  if (!privileged.separated) return;
  for (const a of actions) {
    if (lstatOrNull(sidecarDir(a.folder.abs))?.uid === privileged.serverUid) continue;
    try {
      await privileged.prepareSidecar({ path: a.folder.path, uid: a.kind === "new" ? a.uid : a.row.uid });
    } catch (e) {
      errors.set(a.folder.path, `cannot write the sidecar: ${(e as Error).message}`);
    }
  }
}

/** Identities (and a copy's metadata mirror) are written before the database commits, so a crash in between is re-detected. */
function writeSidecarsFirst(ctx: AppContext, repo: SyncRepo, actions: Action[], errors: Map<string, string>): void {
  const now = ctx.clock.now();
  const uidAt = new Map<string, string>();
  for (const a of actions) if (a.kind === "new" || a.kind === "adopt") uidAt.set(a.folder.path, a.kind === "new" ? a.uid : a.row.uid);
  for (const a of actions) {
    try {
      if (a.kind === "adopt") writeIdentity(a.folder.abs, { uid: a.row.uid, createdAt: a.row.created_at });
      if (a.kind !== "new" || !a.writeIdentity) continue;
      const parentUid = a.copyOf?.row?.uid ?? (a.copyOf?.path !== undefined ? uidAt.get(a.copyOf.path) : undefined);
      writeIdentity(a.folder.abs, { uid: a.uid, createdAt: now, ...(parentUid ? { copiedFrom: parentUid } : {}) });
      if (parentUid) {
        const tags = a.copyOf?.row ? tagTree(repo.tagsOf(a.copyOf.row.id)) : [];
        writeMetadataMirror(a.folder.abs, { title: "", description: "", tags, parents: [parentUid], updatedAt: now });
      }
    } catch (e) {
      errors.set(a.folder.path, `cannot write the sidecar: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/**
 * Writes each dataset's id into its identity once the database has committed it (new datasets, and
 * identities written before ids were kept), so a rebuilt database gives every dataset its old id.
 */
function recordIds(actions: Action[], ids: Map<string, number>, errors: Map<string, string>): void {
  for (const a of actions) {
    const id = ids.get(a.folder.path);
    // New and adopted folders may have had their identity written just before the commit: read that one.
    const fresh = a.kind === "new" || a.kind === "adopt";
    if (id === undefined || errors.has(a.folder.path) || (!fresh && a.folder.identity?.id === id)) continue;
    const current = fresh ? readIdentity(a.folder.abs) : a.folder.identity;
    if (!current || current.id === id) continue;
    try {
      writeIdentity(a.folder.abs, { ...current, id });
    } catch (e) {
      errors.set(a.folder.path, `cannot write the sidecar: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** Applies the folder-level plan in one transaction; returns the dataset id for every folder path. */
function applyStructure(
  ctx: AppContext,
  repo: SyncRepo,
  actions: Action[],
  missing: SyncDatasetRow[],
  summary: SyncSummary,
  adoptIds: boolean,
): Map<string, number> {
  const ids = new Map<string, number>();
  const events = eventsRepo(ctx.db);
  const now = ctx.clock.now();
  ctx.db
    .transaction(() => {
      for (const r of missing) {
        repo.markMissing(r.id, now);
        events.record(now, "dataset.missing", r.id, { path: r.path, uid: r.uid });
        summary.datasets.removed += 1;
      }
      const moves = actions.filter((a) => a.kind === "move" || a.kind === "adopt" || a.kind === "keep");
      for (const a of moves) if (a.row.path !== a.folder.path) repo.setTempPath(a.row.id);
      for (const a of moves) {
        const { row, folder } = a;
        const owner = ctx.services.owners.of(folder.ownerUid);
        if (row.path !== folder.path || row.state !== "present" || row.folder_inode !== folder.inode || (!row.owner_fixed && row.owner !== owner)) {
          repo.setLocation(row.id, folder.path, owner, folder.inode, now);
        }
        if (row.state === "missing") {
          events.record(now, "dataset.restored", row.id, { path: folder.path, from: row.path, uid: row.uid });
          summary.datasets.restored += 1;
        } else if (row.path !== folder.path) {
          events.record(now, "dataset.renamed", row.id, { from: row.path, to: folder.path, uid: row.uid });
          summary.datasets.renamed += 1;
        }
        ids.set(folder.path, row.id);
      }
      // Only the folder whose identity this is may claim its recorded id (a copy got a new uid), and only a free one;
      // those claiming one go first, so the next free id handed to the others never takes a recorded one.
      const recordedId = (a: Action) => (adoptIds && a.kind === "new" && a.folder.identity?.uid === a.uid ? a.folder.identity.id : undefined);
      const fresh = actions.filter((a) => a.kind === "new").sort((x, y) => Number(recordedId(x) === undefined) - Number(recordedId(y) === undefined));
      for (const a of fresh) {
        if (a.kind !== "new") continue;
        const recorded = recordedId(a);
        const wanted = recorded !== undefined && !repo.idTaken(recorded) ? recorded : undefined;
        const id = repo.insertDataset(a.uid, a.folder.path, ctx.services.owners.of(a.folder.ownerUid), a.folder.inode, now, wanted);
        ids.set(a.folder.path, id);
        const parentId = a.copyOf?.row?.id ?? (a.copyOf?.path !== undefined ? ids.get(a.copyOf.path) : undefined);
        if (parentId !== undefined) {
          repo.insertRelation(id, parentId, 0);
          if (a.copyOf?.row) copyTags(repo, a.copyOf.row.id, id);
          events.record(now, "dataset.copied", id, { path: a.folder.path, uid: a.uid, from: parentId });
          summary.datasets.copied += 1;
        } else {
          events.record(now, "dataset.added", id, { path: a.folder.path, uid: a.uid });
          summary.datasets.added += 1;
        }
      }
    })
    .immediate();
  return ids;
}

function childrenByParent(rows: SyncTagRow[]): Map<number | null, SyncTagRow[]> {
  const m = new Map<number | null, SyncTagRow[]>();
  for (const r of rows) {
    const list = m.get(r.parent_id);
    if (list) list.push(r);
    else m.set(r.parent_id, [r]);
  }
  for (const list of m.values()) list.sort((a, b) => a.position - b.position || a.id - b.id);
  return m;
}

/** Copies a dataset's tag tree (order and subtree hashes included) to another dataset. */
function copyTags(repo: SyncRepo, fromId: number, toId: number): void {
  const kids = childrenByParent(repo.tagsOf(fromId));
  const copy = (oldParent: number | null, newParent: number | null) => {
    for (const t of kids.get(oldParent) ?? []) copy(t.id, repo.insertTag(toId, newParent, t.position, t.key, t.value, t.subtree_hash));
  };
  copy(null, null);
}

/** The tag rows of a dataset as the ordered tree the mirror holds. */
export function tagTree(rows: SyncTagRow[]): TagNode[] {
  const kids = childrenByParent(rows);
  const build = (parent: number | null): TagNode[] => (kids.get(parent) ?? []).map((t) => ({ key: t.key, value: t.value, children: build(t.id) }));
  return build(null);
}
