// `mata rebuild`: a new database made from what the share's sidecars say, swapped in whole.
import { existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import type { Database } from "bun:sqlite";
import type { Config } from "../config.ts";
import type { AppContext } from "../context.ts";
import { openDatabase } from "../db/database.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { subtreeHash } from "../tags/tag-hash.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { fsPath } from "./names.ts";
import { reconcileAll } from "./reconcile.ts";
import { hasSidecarFile, readMetadataMirror } from "./sidecar.ts";
import type { SyncSummary } from "./summary.ts";
import { syncRepo, type SyncRepo } from "./sync.repo.ts";

/** What a rebuild found, for the command to print. */
export interface RebuildReport {
  scan: SyncSummary;
  mirrors: number;
  /** Datasets whose mirror is there but could not be read or is malformed: they come back without their metadata. */
  unreadableMirrors: string[];
  parents: number;
  /** Parent links dropped because the uid is unknown or the link would close a cycle. */
  skippedParents: number;
  /** Where the previous database was moved (undefined when there was none). */
  previous?: string;
  /** What the other features restored from the share (e.g. grants from its ACLs), by name. */
  restored: Record<string, unknown>;
}

/** A feature's own recovery from the share, run on the new database before it is swapped in. */
export type RestoreStep = { name: string; run: (ctx: AppContext) => Promise<unknown> };

/**
 * Builds `mata.db` afresh from the sidecars: a full reconcile (identities and ids, copies' parents, files) into a
 * temp file, then titles, descriptions, tags and parents from each metadata mirror, then each feature's own
 * restore steps (grants from the share's ACLs); the old database is kept beside it.
 * `contextOver` builds the context (with its own services) over the new database.
 */
export async function rebuildDatabase(config: Config, contextOver: (db: Database) => AppContext, steps: RestoreStep[] = []): Promise<RebuildReport> {
  const dbFile = path.join(config.state, "mata.db");
  const tmp = `${dbFile}.rebuild-tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const db = openDatabase(tmp);
  const ctx = contextOver(db);
  let report: RebuildReport;
  try {
    // Each dataset takes back the id its identity records, so links and scripts naming ids still work.
    const scan = await reconcileAll(ctx, { adoptIds: true });
    report = { scan, mirrors: 0, unreadableMirrors: [], parents: 0, skippedParents: 0, restored: {} };
    applyMirrors(ctx, report);
    for (const step of steps) report.restored[step.name] = await step.run(ctx);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  if (existsSync(dbFile)) {
    report.previous = `${dbFile}.before-rebuild-${ctx.clock.now()}`;
    renameSync(dbFile, report.previous);
    for (const ext of ["-wal", "-shm"]) if (existsSync(dbFile + ext)) renameSync(dbFile + ext, report.previous + ext);
  }
  for (const ext of ["-wal", "-shm"]) rmSync(tmp + ext, { force: true });
  renameSync(tmp, dbFile);
  return report;
}

function applyMirrors(ctx: AppContext, report: RebuildReport): void {
  const repo = syncRepo(ctx.db);
  const events = eventsRepo(ctx.db);
  const now = ctx.clock.now();
  const present = repo.presentInScope("");
  const wanted: { child: number; uids: string[]; at: number; path: string }[] = [];
  ctx.db
    .transaction(() => {
      for (const row of present) {
        const abs = fsPath(ctx.config.root, row.path);
        const mirror = readMetadataMirror(abs);
        if (!mirror) {
          if (hasSidecarFile(abs, "metadata.json")) report.unreadableMirrors.push(row.path);
          continue;
        }
        report.mirrors += 1;
        repo.setText(row.id, mirror.title, mirror.description, now);
        repo.deleteTags(row.id);
        insertTags(repo, row.id, null, mirror.tags);
        wanted.push({ child: row.id, uids: mirror.parents, at: mirror.updatedAt, path: row.path });
        events.record(now, "dataset.rebuilt", row.id, { path: row.path });
      }
      // Links are added oldest mirror first, so a later link that would close a cycle is the one dropped.
      wanted.sort((a, b) => a.at - b.at || (a.path < b.path ? -1 : 1));
      for (const { child, uids } of wanted) {
        const parentIds = uids.map((u) => repo.byUid(u)?.id).filter((id): id is number => id !== undefined && id !== child);
        report.skippedParents += uids.length - parentIds.length;
        repo.deleteParents(child);
        parentIds.forEach((p, i) => {
          if (reaches(repo, p, child)) {
            report.skippedParents += 1;
            return;
          }
          repo.insertRelation(child, p, i);
          report.parents += 1;
        });
      }
    })
    .immediate();
}

function insertTags(repo: SyncRepo, datasetId: number, parentId: number | null, nodes: TagNode[]): void {
  nodes.forEach((n, i) => insertTags(repo, datasetId, repo.insertTag(datasetId, parentId, i, n.key, n.value, subtreeHash(n)), n.children));
}

/** True when `from` already has `to` among its ancestors-or-self, so `to -> from` as a parent link would close a cycle. */
function reaches(repo: SyncRepo, from: number, to: number): boolean {
  const stack = [from];
  const seen = new Set<number>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...repo.parentIds(id));
  }
  return false;
}
