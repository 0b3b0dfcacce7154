import type { Database } from "bun:sqlite";
import type { TagFilter } from "../search/tag-filter.ts";
import { tagFilterCounts, tagFilterSql } from "../search/tag-filter.repo.ts";

/** A dataset row as the API reads it. */
export interface DatasetRow {
  id: number;
  uid: string;
  path: string;
  title: string;
  description: string;
  owner: string | null;
  state: "present" | "missing";
  version: number;
  tags_version: number;
  generation: number;
  file_count: number;
  byte_count: number;
  scan_error: string | null;
  created_at: number;
  updated_at: number;
  missing_since: number | null;
}

/** A file row as the API lists it. */
export interface FileRow {
  path: string;
  size: number;
  mtime_ms: number;
}

/** The orders a dataset list offers (API and pages alike). */
export const DATASET_SORTS = ["path", "title", "owner", "size", "files", "updated"] as const;
export type SortKey = (typeof DATASET_SORTS)[number];

/** Each sort expression exactly as its index (migration 007) declares it, so SQLite walks the index in order. */
export const SORT_EXPR: Record<SortKey, string> = {
  path: "path",
  title: "title COLLATE NOCASE",
  owner: "ifnull(owner, '')",
  size: "byte_count",
  files: "file_count",
  updated: "updated_at",
};

/**
 * The keyset pages of a dataset's files: each walks the UNIQUE (dataset_id, path) index from the cursor, so page
 * 3,000 costs what page 1 does (test/datasets/files-paging.test.ts checks the query plans).
 */
export const FILE_PAGE_SQL = {
  first: "SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? ORDER BY path LIMIT ?",
  last: "SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? ORDER BY path DESC LIMIT ?",
  after: "SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? AND path > ? ORDER BY path LIMIT ?",
  before: "SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? AND path < ? ORDER BY path DESC LIMIT ?",
} as const;

/** What a dataset list may be narrowed by; every field is optional. */
export interface ListFilter {
  /** Substring of path or title (case-insensitive). */
  q?: string;
  state?: "present" | "missing";
  owner?: string;
  /** The dataset folder, relative to the root, exactly (how scripts name a dataset). */
  path?: string;
  /** Tag filters, all of which must hold: a key with a value, or a key with any value. */
  tags?: TagFilter[];
}

/** Reads datasets and their files; writes belong to the sync engine and the metadata services. */
export function datasetsRepo(db: Database) {
  const byId = db.query<DatasetRow, [number]>("SELECT * FROM datasets WHERE id = ?");
  const byPath = db.query<DatasetRow, [string]>("SELECT * FROM datasets WHERE state = 'present' AND path = ?");
  const parents = db.query<{ id: number }, [number]>("SELECT parent_id AS id FROM relations WHERE child_id = ? ORDER BY position, parent_id");
  const children = db.query<{ id: number }, [number]>("SELECT child_id AS id FROM relations WHERE parent_id = ? ORDER BY child_id");
  const files = db.query<FileRow, [number, number, number]>("SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? ORDER BY path LIMIT ? OFFSET ?");
  const fileByPath = db.query<FileRow, [number, string]>("SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? AND path = ?");
  const filesFirst = db.query<FileRow, [number, number]>(FILE_PAGE_SQL.first);
  const filesLast = db.query<FileRow, [number, number]>(FILE_PAGE_SQL.last);
  const filesAfter = db.query<FileRow, [number, string, number]>(FILE_PAGE_SQL.after);
  const filesBefore = db.query<FileRow, [number, string, number]>(FILE_PAGE_SQL.before);
  const anyUpTo = db.query<{ one: number }, [number, string]>("SELECT 1 AS one FROM files WHERE dataset_id = ? AND path <= ? LIMIT 1");
  const anyFrom = db.query<{ one: number }, [number, string]>("SELECT 1 AS one FROM files WHERE dataset_id = ? AND path >= ? LIMIT 1");

  function where(f: ListFilter): { sql: string; params: (string | number)[] } {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (f.state) {
      clauses.push("state = ?");
      params.push(f.state);
    }
    if (f.owner) {
      clauses.push("owner = ?");
      params.push(f.owner);
    }
    if (f.path) {
      clauses.push("path = ?");
      params.push(f.path);
    }
    if (f.q) {
      clauses.push("(instr(lower(path), lower(?)) > 0 OR instr(lower(title), lower(?)) > 0)");
      params.push(f.q, f.q);
    }
    if (f.tags?.length) {
      const t = tagFilterSql("datasets.id", f.tags, tagFilterCounts(db, f.tags));
      clauses.push(t.sql);
      params.push(...t.params);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
  }

  return {
    get: (id: number) => byId.get(id),
    /** The present dataset at a path relative to the root. */
    byPath: (path: string) => byPath.get(path),
    parentIds: (id: number) => parents.all(id).map((r) => r.id),
    childIds: (id: number) => children.all(id).map((r) => r.id),

    /** One page of datasets plus the total that match, sorted by an indexed-friendly key. */
    list(f: ListFilter, sort: SortKey, desc: boolean, limit: number, offset: number): { items: DatasetRow[]; total: number } {
      const w = where(f);
      const order = `${SORT_EXPR[sort]} ${desc ? "DESC" : "ASC"}, id ${desc ? "DESC" : "ASC"}`;
      const items = db
        .query<DatasetRow, (string | number)[]>(`SELECT * FROM datasets ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...w.params, limit, offset);
      const total = db.query<{ n: number }, (string | number)[]>(`SELECT count(*) AS n FROM datasets ${w.sql}`).get(...w.params)?.n ?? 0;
      return { items, total };
    },

    files: (id: number, limit: number, offset: number) => files.all(id, limit, offset),
    /**
     * Up to `limit` files in path order after the path `after` (from the first when null), or, going back, the
     * `limit` files just before `before` (the last ones when `before` is ""), still in path order.
     */
    filesPage(id: number, cursor: { after: string | null } | { before: string }, limit: number): FileRow[] {
      if ("before" in cursor) return (cursor.before === "" ? filesLast.all(id, limit) : filesBefore.all(id, cursor.before, limit)).reverse();
      return cursor.after === null ? filesFirst.all(id, limit) : filesAfter.all(id, cursor.after, limit);
    },
    /** Whether the dataset has a file at or before (`upTo`) or at or after (`from`) a path. */
    hasFileUpTo: (id: number, path: string) => anyUpTo.get(id, path) !== null,
    hasFileFrom: (id: number, path: string) => anyFrom.get(id, path) !== null,
    file: (id: number, path: string) => fileByPath.get(id, path),
  };
}
