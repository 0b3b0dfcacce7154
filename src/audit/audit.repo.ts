import type { Database } from "bun:sqlite";

/** One row of the audit log as stored (before, after and detail are JSON text). */
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  dataset_id: number | null;
  dataset_path: string | null;
  target: string | null;
  before: string | null;
  after: string | null;
  address: string | null;
  detail: string | null;
}

/** What a reader may see and what they asked for; every field but the viewer is optional. */
export interface AuditQuery {
  /** Null: an admin, who sees everything. Otherwise the account whose datasets' history (and own sign-ins) it sees. */
  ownedBy: string | null;
  datasetId?: number;
  actor?: string;
  /** An action ("file.download") or its group ("signin" also matches "signin.failed"). */
  action?: string;
  /** From this time (ms, inclusive) ... */
  from?: number;
  /** ... to this one (ms, exclusive). */
  to?: number;
  /** Only rows older than this id (the cursor of the next page). */
  beforeId?: number;
  limit: number;
}

/** Rows removed by one pruning statement. */
export const PRUNE_BATCH = 5000;

/** Appends to and reads the audit log; writers call `insert` inside the transaction of the change it records. */
export function auditRepo(db: Database) {
  // The path is taken from the dataset row at the moment of the change, so a later rename does not rewrite history.
  const insert = db.query(
    `INSERT INTO audit_log (at, actor, action, dataset_id, dataset_path, target, before, after, address, detail)
     VALUES (?1, ?2, ?3, ?4, (SELECT path FROM datasets WHERE id = ?4), ?5, ?6, ?7, ?8, ?9)`,
  );
  const pruneBatch = db.query(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ${PRUNE_BATCH})`);
  const owner = db.query<{ owner: string | null }, [number]>("SELECT owner FROM datasets WHERE id = ?");
  return {
    insert(
      at: number,
      e: {
        actor: string;
        action: string;
        datasetId: number | null;
        target: string | null;
        before: string | null;
        after: string | null;
        address: string | null;
        detail: string | null;
      },
    ): void {
      insert.run(at, e.actor, e.action, e.datasetId, e.target, e.before, e.after, e.address, e.detail);
    },
    /** Newest first. The statement is built from the filters given, so each combination gets its own index plan. */
    find(q: AuditQuery): AuditRow[] {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.ownedBy !== null) {
        where.push("(dataset_id IN (SELECT id FROM datasets WHERE owner = ?) OR (dataset_id IS NULL AND actor = ?))");
        args.push(q.ownedBy, q.ownedBy);
      }
      if (q.datasetId !== undefined) (where.push("dataset_id = ?"), args.push(q.datasetId));
      if (q.actor !== undefined) (where.push("actor = ?"), args.push(q.actor));
      if (q.action !== undefined) (where.push("(action = ? OR action LIKE ? ESCAPE '\\')"), args.push(q.action, `${q.action.replace(/[\\%_]/g, "\\$&")}.%`));
      if (q.from !== undefined) (where.push("at >= ?"), args.push(q.from));
      if (q.to !== undefined) (where.push("at < ?"), args.push(q.to));
      if (q.beforeId !== undefined) (where.push("id < ?"), args.push(q.beforeId));
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
      return db.query<AuditRow, (string | number)[]>(sql).all(...args, q.limit);
    },
    /** The dataset's owner, or undefined when there is no such dataset. */
    ownerOf(datasetId: number): string | null | undefined {
      return owner.get(datasetId)?.owner;
    },
    /** Removes up to PRUNE_BATCH rows older than `before` (one short write); returns how many, so the caller repeats while it is that many. */
    pruneBatch: (before: number): number => pruneBatch.run(before).changes,
  };
}
