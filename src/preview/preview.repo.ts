import type { Database } from "bun:sqlite";

/** A previews row: one volume or image of a dataset and where its tiles are. */
export interface PreviewRow {
  id: number;
  dataset_id: number;
  n: number;
  file: string;
  kind: "volume" | "image" | "mesh";
  format: string;
  state: "queued" | "running" | "ready" | "failed";
  progress: number;
  error: string | null;
  window_min: number | null;
  window_max: number | null;
  width: number;
  height: number;
  depth: number;
  dtype: string;
  spacing: string;
  unit: string;
  levels: number;
  generation: number;
  content_key: string;
  notes: string;
  updated_at: number;
  /** 1 while only the coarse levels are published (served from `<key>.coarse`), 0 otherwise. */
  coarse: number;
}

/** What the preview job knows about a volume before building it. */
export interface PreviewPlan {
  n: number;
  file: string;
  kind: "volume" | "image" | "mesh";
  format: string;
  width: number;
  height: number;
  depth: number;
  dtype: string;
  spacing: [number, number, number];
  unit: string;
  contentKey: string;
  notes: string[];
}

/**
 * Every SQL statement of previews, prepared once per context (its `PreviewStore`); also the few dataset/file
 * reads the preview job needs. `onWrite` is called on every write to previews, so read caches look again.
 */
export function previewRepo(db: Database, onWrite: () => void = () => {}) {
  const dataset = db.query<{ id: number; uid: string; path: string; title: string; generation: number; state: string }, [number]>(
    "SELECT id, uid, path, title, generation, state FROM datasets WHERE id = ?",
  );
  const files = db.query<{ path: string; size: number; mtime_ms: number }, [number]>(
    "SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? ORDER BY path",
  );
  const byDataset = db.query<PreviewRow, [number]>("SELECT * FROM previews WHERE dataset_id = ? ORDER BY n");
  const byN = db.query<PreviewRow, [number, number]>("SELECT * FROM previews WHERE dataset_id = ? AND n = ?");
  // SQLite takes the bare columns of an aggregate from the row holding the min(): the first ready picture.
  const firstPictures = db.query<{ dataset_id: number; n: number; content_key: string; coarse: number }, [string]>(
    "SELECT dataset_id, min(n) AS n, content_key, coarse FROM previews WHERE dataset_id IN (SELECT value FROM json_each(?)) AND state = 'ready' AND (kind <> 'mesh' OR levels > 0) GROUP BY dataset_id",
  );
  const firstKinds = db.query<{ dataset_id: number; kind: PreviewRow["kind"] }, [string]>(
    "SELECT dataset_id, kind, min(n) AS n FROM previews WHERE dataset_id IN (SELECT value FROM json_each(?)) GROUP BY dataset_id",
  );
  const deleteOfDataset = db.query<unknown, [number]>("DELETE FROM previews WHERE dataset_id = ?");
  const insert = db.query<
    unknown,
    [
      number,
      number,
      string,
      string,
      string,
      string,
      number,
      number,
      number,
      string,
      string,
      string,
      number,
      string,
      string,
      number,
      number | null,
      number | null,
      string | null,
      number,
      number,
    ]
  >(
    `INSERT INTO previews (dataset_id, n, file, kind, format, state, width, height, depth, dtype, spacing, unit, generation, content_key, notes, updated_at, window_min, window_max, error, levels, coarse)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const readyByKey = db.query<PreviewRow, [string]>("SELECT * FROM previews WHERE content_key = ? AND state = 'ready' LIMIT 1");
  const setState = db.query<unknown, [string, string | null, number, number]>(
    "UPDATE previews SET state = ?, error = ?, updated_at = ?, coarse = 0 WHERE id = ?",
  );
  const setCoarse = db.query<unknown, [number, number, number, number, number]>(
    "UPDATE previews SET state = 'ready', coarse = 1, error = NULL, window_min = ?, window_max = ?, levels = ?, updated_at = ? WHERE id = ?",
  );
  const coarseKeys = db.query<{ content_key: string }, []>("SELECT DISTINCT content_key FROM previews WHERE coarse = 1");
  const setProgress = db.query<unknown, [number, number]>("UPDATE previews SET progress = ? WHERE id = ?");
  const setReady = db.query<unknown, [number, number, number, number, number]>(
    "UPDATE previews SET state = 'ready', coarse = 0, error = NULL, progress = 1, window_min = ?, window_max = ?, levels = ?, updated_at = ? WHERE id = ?",
  );
  const resetRunning = db.query<unknown, [number]>("UPDATE previews SET state = 'queued', progress = 0 WHERE dataset_id = ? AND state = 'running'");
  const keys = db.query<{ content_key: string }, []>("SELECT DISTINCT content_key FROM previews");
  const deleteInputs = db.query<unknown, [number]>("DELETE FROM preview_inputs WHERE dataset_id = ?");
  const insertInput = db.query<unknown, [number, string]>("INSERT OR IGNORE INTO preview_inputs (dataset_id, path) VALUES (?, ?)");
  const isInput = db.query<{ one: number }, [number, string]>("SELECT 1 AS one FROM preview_inputs WHERE dataset_id = ? AND path = ?");
  const inputsOf = db.query<{ path: string }, [number]>("SELECT path FROM preview_inputs WHERE dataset_id = ? ORDER BY path");
  const meshesWithoutThumbnail = db.query<{ id: number; generation: number }, []>(
    `SELECT DISTINCT d.id, d.generation FROM datasets d JOIN previews p ON p.dataset_id = d.id
     WHERE d.state = 'present' AND p.kind = 'mesh' AND p.state = 'ready' AND p.levels = 0`,
  );
  const readyTiles = db.query<{ id: number; generation: number; content_key: string }, []>(
    `SELECT DISTINCT d.id, d.generation, p.content_key FROM datasets d JOIN previews p ON p.dataset_id = d.id
     WHERE d.state = 'present' AND p.kind <> 'mesh' AND p.state = 'ready' AND p.coarse = 0`,
  );
  const behind = db.query<{ id: number; generation: number }, []>(
    `SELECT d.id, d.generation FROM datasets d
     WHERE d.state = 'present'
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dataset_id = d.id AND j.kind = 'preview' AND j.generation >= d.generation)
       AND NOT EXISTS (SELECT 1 FROM previews p WHERE p.dataset_id = d.id AND p.generation >= d.generation)`,
  );

  return {
    dataset: (id: number) => dataset.get(id),
    files: (datasetId: number) => files.all(datasetId),
    list: (datasetId: number) => byDataset.all(datasetId),
    /** The first ready volume, image or mesh with a thumbnail of each dataset, for thumbnails in lists. */
    firstPictures: (datasetIds: number[]) => firstPictures.all(JSON.stringify(datasetIds)),
    /** The kind of each dataset's first preview, in any state, for the list's placeholder where no thumbnail is shown. */
    firstKinds: (datasetIds: number[]) => firstKinds.all(JSON.stringify(datasetIds)),
    get: (datasetId: number, n: number) => byN.get(datasetId, n),
    /** The ready build of equal content anywhere (a copied dataset), to reuse its window and levels. */
    readyWithKey: (key: string) => readyByKey.get(key),
    /** Replaces a dataset's preview rows with a new plan, in one transaction; the tiles are shared by content key. */
    replace(
      datasetId: number,
      generation: number,
      plans: (PreviewPlan & { state: PreviewRow["state"]; window?: [number, number] | null; levels?: number; error?: string; coarse?: boolean })[],
      now: number,
    ): PreviewRow[] {
      onWrite();
      return db
        .transaction(() => {
          deleteOfDataset.run(datasetId);
          for (const p of plans) {
            insert.run(
              datasetId,
              p.n,
              p.file,
              p.kind,
              p.format,
              p.state,
              p.width,
              p.height,
              p.depth,
              p.dtype,
              JSON.stringify(p.spacing),
              p.unit,
              generation,
              p.contentKey,
              JSON.stringify(p.notes),
              now,
              p.window?.[0] ?? null,
              p.window?.[1] ?? null,
              p.error ?? null,
              p.levels ?? 0,
              p.coarse ? 1 : 0,
            );
          }
          return byDataset.all(datasetId);
        })
        .immediate();
    },
    setState: (id: number, state: PreviewRow["state"], error: string | null, now: number) => {
      onWrite();
      setState.run(state, error, now, id);
    },
    setProgress: (id: number, fraction: number) => setProgress.run(fraction, id),
    /** The coarse levels are published: ready to view from `<key>.coarse` while the full build goes on. */
    setCoarse: (id: number, window: [number, number], levels: number, now: number) => {
      onWrite();
      setCoarse.run(window[0], window[1], levels, now, id);
    },
    /** Content keys whose rows show their coarse build (their `<key>.coarse` folders stay). */
    coarseKeys: () => new Set(coarseKeys.all().map((r) => r.content_key)),
    setReady: (id: number, window: [number, number], levels: number, now: number) => {
      onWrite();
      setReady.run(window[0], window[1], levels, now, id);
    },
    /** Builds a stopped job left half-way go back to queued; the next job starts them again. */
    resetRunning: (datasetId: number) => {
      onWrite();
      resetRunning.run(datasetId);
    },
    /** Present datasets whose current generation no preview job or preview has seen (changed while no server ran). */
    behind: () => behind.all(),
    /** Datasets with a mesh preview built before mesh thumbnails (levels 0), to build again once. */
    meshesWithoutThumbnail: () => meshesWithoutThumbnail.all(),
    /** Each ready tile preview's dataset and content key (for finding builds in an older layout). */
    readyTiles: () => readyTiles.all(),
    /** Replaces the files a dataset's volumes read beyond the readers' own list of inputs (see migration 011). */
    setExtraInputs: (datasetId: number, paths: string[]) =>
      db
        .transaction(() => {
          deleteInputs.run(datasetId);
          for (const p of paths) insertInput.run(datasetId, p);
        })
        .immediate(),
    /** Whether a file is one of those (one indexed look-up: asked for each changed file the readers' list misses). */
    isExtraInput: (datasetId: number, file: string) => isInput.get(datasetId, file) !== null,
    extraInputs: (datasetId: number) => inputsOf.all(datasetId).map((r) => r.path),
    /** Content keys any dataset still refers to; tile folders of other keys can be removed. */
    referencedKeys: () => new Set(keys.all().map((r) => r.content_key)),
  };
}

/** The preview statements bound to one database. */
export type PreviewRepo = ReturnType<typeof previewRepo>;
