import type { Database } from "bun:sqlite";

/** A tag row of a subtree, as stored. */
export interface TagRowLite {
  id: number;
  parent_id: number | null;
  key: string;
  value: string;
}

/** A dataset as a tag page lists it. */
export interface TaggedDataset {
  id: number;
  title: string;
  path: string;
  owner: string | null;
  state: "present" | "missing";
}

/**
 * Reads the tag cloud from the count tables the metadata triggers maintain (migration 007: datasets per key and per
 * key=value), never by GROUP BY over the tags at request time; and the datasets carrying an equal tag subtree.
 */
export function cloudRepo(db: Database) {
  const pairs = db.query<{ key: string; value: string; n: number }, [string, string, number, number]>(
    `SELECT key, value, datasets AS n FROM tag_value_counts
      WHERE key_fold >= ? AND key_fold < ? ORDER BY key_fold, fold, key, value LIMIT ? OFFSET ?`,
  );
  const pairsTotal = db.query<{ n: number }, [string, string]>(`SELECT count(*) AS n FROM tag_value_counts WHERE key_fold >= ? AND key_fold < ?`);
  const pairsMax = db.query<{ n: number | null }, []>(`SELECT max(datasets) AS n FROM tag_value_counts`);
  const keys = db.query<{ key: string; n: number }, [string, string, number, number]>(
    `SELECT key, datasets AS n FROM tag_key_counts WHERE fold >= ? AND fold < ? ORDER BY fold, key LIMIT ? OFFSET ?`,
  );
  const keysTotal = db.query<{ n: number }, [string, string]>(`SELECT count(*) AS n FROM tag_key_counts WHERE fold >= ? AND fold < ?`);
  const keysMax = db.query<{ n: number | null }, []>(`SELECT max(datasets) AS n FROM tag_key_counts`);
  const valuesOfKey = db.query<{ value: string; n: number }, [string, number]>(
    `SELECT value, datasets AS n FROM tag_value_counts WHERE key = ? ORDER BY fold, value LIMIT ?`,
  );
  const variants = db.query<{ hash: string; n: number }, [string, string, number]>(
    `SELECT subtree_hash AS hash, count(DISTINCT dataset_id) AS n FROM tags WHERE key = ? AND value = ?
      GROUP BY subtree_hash ORDER BY n DESC, subtree_hash LIMIT ?`,
  );
  const sample = db.query<{ id: number; dataset_id: number }, [string]>(`SELECT id, dataset_id FROM tags WHERE subtree_hash = ? LIMIT 1`);
  const subtree = db.query<TagRowLite, [number, number]>(
    `WITH RECURSIVE sub(id) AS (
       SELECT ?1
       UNION ALL
       SELECT t.id FROM tags t JOIN sub ON t.parent_id = sub.id WHERE t.dataset_id = ?2
     )
     SELECT t.id, t.parent_id, t.key, t.value FROM tags t JOIN sub USING (id) ORDER BY t.parent_id NULLS FIRST, t.position, t.id`,
  );
  const carriers = db.query<TaggedDataset, [string, number, number]>(
    `SELECT id, title, path, owner, state FROM datasets
      WHERE id IN (SELECT dataset_id FROM tags WHERE subtree_hash = ?)
      ORDER BY title COLLATE NOCASE, path, id LIMIT ? OFFSET ?`,
  );
  const carriersNewest = db.query<TaggedDataset, [string, number, number]>(
    `SELECT id, title, path, owner, state FROM datasets
      WHERE id IN (SELECT dataset_id FROM tags WHERE subtree_hash = ?)
      ORDER BY id DESC LIMIT ? OFFSET ?`,
  );
  const carriersTotal = db.query<{ n: number }, [string]>(`SELECT count(DISTINCT dataset_id) AS n FROM tags WHERE subtree_hash = ?`);

  const writes = db.query<{ own: number; others: number }, []>("SELECT total_changes() AS own, (SELECT data_version FROM pragma_data_version) AS others");

  return {
    /** A marker that changes whenever this connection or another one wrote to the store. */
    writeMarker: () => {
      const w = writes.get()!;
      return `${w.own}:${w.others}`;
    },
    /** key=value pairs whose folded key lies in [lo, hi), alphabetical. */
    pairs: (lo: string, hi: string, limit: number, offset: number) => pairs.all(lo, hi, limit, offset),
    pairsTotal: (lo: string, hi: string) => pairsTotal.get(lo, hi)?.n ?? 0,
    pairsMax: () => pairsMax.get()?.n ?? 0,
    keys: (lo: string, hi: string, limit: number, offset: number) => keys.all(lo, hi, limit, offset),
    keysTotal: (lo: string, hi: string) => keysTotal.get(lo, hi)?.n ?? 0,
    keysMax: () => keysMax.get()?.n ?? 0,
    valuesOfKey: (key: string, limit: number) => valuesOfKey.all(key, limit),
    /** The distinct subtrees (by hash) a key=value pair heads, most used first. */
    variants: (key: string, value: string, limit: number) => variants.all(key, value, limit),
    /** The rows of one subtree with this hash (any occurrence: they are equal by definition), root first. */
    subtreeRows(hash: string): TagRowLite[] {
      const s = sample.get(hash);
      return s ? subtree.all(s.id, s.dataset_id) : [];
    },
    /** Datasets carrying the subtree: alphabetical, or newest first (no sort of every carrier) for a very common one. */
    carriers: (hash: string, limit: number, offset: number, alphabetical: boolean) => (alphabetical ? carriers : carriersNewest).all(hash, limit, offset),
    carriersTotal: (hash: string) => carriersTotal.get(hash)?.n ?? 0,
  };
}
