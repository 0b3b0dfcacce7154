import type { Database } from "bun:sqlite";
import type { TagFilter } from "./tag-filter.ts";
import { tagFilterCounts, tagFilterSql } from "./tag-filter.repo.ts";

/** Conditions on the dataset row besides text and tags. */
export interface RowFilters {
  tags: TagFilter[];
  owner?: string;
  /** created_at bounds in ms since the epoch: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  /** byte_count bounds, inclusive. */
  minBytes?: number;
  maxBytes?: number;
}

/** A dataset's search document with the row fields a result shows. */
export interface DocRow {
  id: number;
  path: string;
  owner: string | null;
  state: "present" | "missing";
  byte_count: number;
  created_at: number;
  title: string;
  description: string;
  tags: string;
}

type Param = string | number;

/** The index statements run, in order, to fold one batch of dirty datasets (copied to temp.search_batch) into the indexes. */
const FLUSH = [
  `INSERT INTO search_fts (search_fts, rowid, title, description, tags)
     SELECT 'delete', d.dataset_id, d.title, d.description, d.tags FROM search_docs d JOIN temp.search_batch x USING (dataset_id)`,
  `INSERT INTO search_tri (search_tri, rowid, title, description, tags)
     SELECT 'delete', d.dataset_id, d.title, d.description, d.tags FROM search_docs d JOIN temp.search_batch x USING (dataset_id)`,
  `DELETE FROM search_docs WHERE dataset_id IN (SELECT dataset_id FROM temp.search_batch)`,
  `INSERT INTO search_docs (dataset_id, title, description, tags)
     SELECT d.id,
       -- No title: the folder name (the last path segment), as every page shows it.
       CASE WHEN d.title <> '' THEN d.title ELSE replace(d.path, rtrim(d.path, replace(d.path, '/', '')), '') END,
       d.description,
       coalesce((SELECT group_concat(CASE WHEN t.value = '' THEN t.key ELSE t.key || ' = ' || t.value END, char(10)
                   ORDER BY t.parent_id NULLS FIRST, t.position)
                 FROM tags t WHERE t.dataset_id = d.id), '')
     FROM datasets d JOIN temp.search_batch x ON x.dataset_id = d.id`,
  `INSERT INTO search_fts (rowid, title, description, tags)
     SELECT dataset_id, title, description, tags FROM search_docs WHERE dataset_id IN (SELECT dataset_id FROM temp.search_batch)`,
  `INSERT INTO search_tri (rowid, title, description, tags)
     SELECT dataset_id, title, description, tags FROM search_docs WHERE dataset_id IN (SELECT dataset_id FROM temp.search_batch)`,
  `DELETE FROM search_dirty WHERE dataset_id IN (SELECT dataset_id FROM temp.search_batch)`,
  `DELETE FROM temp.search_batch`,
];

/**
 * Row-filter SQL on a dataset id column, joined with AND; empty when there is nothing to filter. On a full-text table
 * the id is written `+rowid`, so SQLite never feeds a list of ids into the full-text module (which would run the
 * whole MATCH once per id: minutes for a common tag); the text query runs once and each candidate is checked.
 */
function rowFilterSql(idCol: string, f: RowFilters, counts: number[], onDatasets: boolean): { sql: string; params: Param[] } {
  const clauses: string[] = [];
  const params: Param[] = [];
  const id = onDatasets ? idCol : `+${idCol}`;
  const t = tagFilterSql(id, f.tags, counts);
  if (t.sql) {
    clauses.push(t.sql);
    params.push(...t.params);
  }
  const row: string[] = [];
  if (f.owner !== undefined) {
    row.push("owner = ?");
    params.push(f.owner);
  }
  if (f.from !== undefined) {
    row.push("created_at >= ?");
    params.push(f.from);
  }
  if (f.to !== undefined) {
    row.push("created_at < ?");
    params.push(f.to);
  }
  if (f.minBytes !== undefined) {
    row.push("byte_count >= ?");
    params.push(f.minBytes);
  }
  if (f.maxBytes !== undefined) {
    row.push("byte_count <= ?");
    params.push(f.maxBytes);
  }
  if (row.length) clauses.push(onDatasets ? row.join(" AND ") : `EXISTS (SELECT 1 FROM datasets WHERE datasets.id = ${id} AND ${row.join(" AND ")})`);
  return { sql: clauses.join(" AND "), params };
}

/** Reads and maintains the search indexes; every statement here is prepared and cached by SQL text. */
export function searchRepo(db: Database) {
  const dirtyOne = db.query<{ x: number }, []>("SELECT 1 AS x FROM search_dirty LIMIT 1");
  // Per connection: the batch being folded in, so a big backlog can be folded in slices between requests.
  db.exec("CREATE TEMP TABLE IF NOT EXISTS search_batch (dataset_id INTEGER PRIMARY KEY)");
  const takeBatch = db.query<never, [number]>("INSERT INTO temp.search_batch (dataset_id) SELECT dataset_id FROM search_dirty ORDER BY dataset_id LIMIT ?");
  const flushStatements = FLUSH.map((sql) => db.query(sql));
  const flushBatch = db.transaction((max: number): number => {
    const n = takeBatch.run(max).changes;
    for (const st of flushStatements) st.run();
    return n;
  });

  /** The candidate query: ids in rank order (bm25 when there are words, newest first otherwise). */
  function candidates(fts: string | undefined, tri: string | undefined, f: RowFilters): { sql: string; order: string; params: Param[] } {
    const counts = tagFilterCounts(db, f.tags);
    if (fts) {
      const where = ["search_fts MATCH ?"];
      const params: Param[] = [fts];
      if (tri) {
        where.push("+search_fts.rowid IN (SELECT rowid FROM search_tri WHERE search_tri MATCH ?)");
        params.push(tri);
      }
      const r = rowFilterSql("search_fts.rowid", f, counts, false);
      if (r.sql) where.push(r.sql);
      // Title matches weigh most, then tags, then the description.
      return {
        sql: `SELECT rowid AS id, bm25(search_fts, 4.0, 1.0, 2.0) AS score FROM search_fts WHERE ${where.join(" AND ")}`,
        order: "ORDER BY 2, 1",
        params: [...params, ...r.params],
      };
    }
    if (tri) {
      const r = rowFilterSql("search_tri.rowid", f, counts, false);
      return {
        sql: `SELECT rowid AS id, 0 AS score FROM search_tri WHERE search_tri MATCH ?${r.sql ? ` AND ${r.sql}` : ""}`,
        order: "ORDER BY rowid DESC",
        params: [tri, ...r.params],
      };
    }
    const r = rowFilterSql("datasets.id", f, counts, true);
    return { sql: `SELECT id, 0 AS score FROM datasets${r.sql ? ` WHERE ${r.sql}` : ""}`, order: "ORDER BY id DESC", params: r.params };
  }

  const docs = db.query<DocRow, [string]>(
    `SELECT d.id, d.path, d.owner, d.state, d.byte_count, d.created_at, s.title, s.description, s.tags
       FROM datasets d JOIN search_docs s ON s.dataset_id = d.id
      WHERE d.id IN (SELECT value FROM json_each(?))`,
  );
  const facetPairs = db.query<{ key: string; value: string; n: number }, [string, number]>(
    `SELECT key, value, count(DISTINCT dataset_id) AS n FROM tags
      WHERE dataset_id IN (SELECT value FROM json_each(?))
      GROUP BY key, value ORDER BY n DESC, key, value LIMIT ?`,
  );
  const facetKeys = db.query<{ key: string; n: number }, [string, number]>(
    `SELECT key, count(DISTINCT dataset_id) AS n FROM tags
      WHERE dataset_id IN (SELECT value FROM json_each(?))
      GROUP BY key ORDER BY n DESC, key LIMIT ?`,
  );

  return {
    /** True when some dataset changed since the indexes were last brought up to date. */
    isDirty: () => dirtyOne.get() !== null,
    /** Folds at most `max` dirty datasets into the indexes in one write transaction; returns how many. */
    flush: (max: number): number => flushBatch.immediate(max),

    /** One page of ids, ranked (bm25 for words) or newest first, for pages past the matches `matches` returned. */
    ids(fts: string | undefined, tri: string | undefined, f: RowFilters, limit: number, offset: number, ranked = true): number[] {
      const c = candidates(fts, tri, f);
      return db
        .query<{ id: number }, Param[]>(`${c.sql} ${ranked ? c.order : "ORDER BY 1 DESC"} LIMIT ? OFFSET ?`)
        .all(...c.params, limit, offset)
        .map((r) => r.id);
    },

    /**
     * Up to `cap` matches, newest first, with their scores (lower is better): one pass over the index serves the
     * count, the ranking and the pages, and it stops at `cap` however common the words are.
     */
    matches(fts: string | undefined, tri: string | undefined, f: RowFilters, cap: number): { id: number; score: number }[] {
      const c = candidates(fts, tri, f);
      return db.query<{ id: number; score: number }, Param[]>(`${c.sql} ORDER BY 1 DESC LIMIT ?`).all(...c.params, cap);
    },

    /** The documents of these datasets, in no particular order. */
    docs: (ids: number[]) => docs.all(JSON.stringify(ids)),

    /** The most common key=value pairs and keys among these datasets. */
    facets(ids: number[], limit: number) {
      const json = JSON.stringify(ids);
      return { pairs: facetPairs.all(json, limit), keys: facetKeys.all(json, limit) };
    },
  };
}

/** The search repository's shape, for services that take it as a dependency. */
export type SearchRepo = ReturnType<typeof searchRepo>;
