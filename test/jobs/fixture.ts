import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../../src/context.ts";

/** Makes a dataset folder and its row, as the sync engine would on first sight. */
export function addDataset(ctx: AppContext, rel: string): number {
  mkdirSync(path.join(ctx.config.root, rel), { recursive: true });
  const now = Date.now();
  const row = ctx.db
    .query<{ id: number }, [string, string, number, number]>("INSERT INTO datasets (uid, path, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id")
    .get(crypto.randomUUID(), rel, now, now)!;
  return row.id;
}

function walk(dir: string, base = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Does what the sync engine does after a change: records the given files (or the whole folder), bumps the
 * generation in the same transaction and calls every contentChanged listener.
 */
export function commitChange(ctx: AppContext, datasetId: number, changed?: string[], removed: string[] = []): number {
  const ds = ctx.db.query<{ path: string }, [number]>("SELECT path FROM datasets WHERE id = ?").get(datasetId)!;
  const abs = path.join(ctx.config.root, ds.path);
  const files = changed ?? walk(abs);
  const now = Date.now();
  let generation = 0;
  ctx.db.transaction(() => {
    for (const f of files) {
      const st = statSync(path.join(abs, f));
      ctx.db
        .query(
          "INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms",
        )
        .run(datasetId, f, st.size, Math.floor(st.mtimeMs), st.ino, now);
    }
    for (const f of removed) ctx.db.query("DELETE FROM files WHERE dataset_id = ? AND path = ?").run(datasetId, f);
    generation = ctx.db
      .query<{ generation: number }, [number]>("UPDATE datasets SET generation = generation + 1 WHERE id = ? RETURNING generation")
      .get(datasetId)!.generation;
  })();
  for (const l of ctx.hooks.contentChanged) l({ datasetId, path: ds.path, generation, changed: files, removed });
  return generation;
}

/** Writes a MetaImage volume (uint16, little-endian) whose voxels are value(x, y, z). */
export function writeMetaImage(
  dir: string,
  name: string,
  dims: [number, number, number],
  value: (x: number, y: number, z: number) => number,
  opts: { truncateTo?: number } = {},
): void {
  const [w, h, d] = dims;
  const data = new Uint16Array(w * h * d);
  for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(z * h + y) * w + x] = value(x, y, z);
  const header = [
    "ObjectType = Image",
    "NDims = 3",
    `DimSize = ${w} ${h} ${d}`,
    "ElementType = MET_USHORT",
    "ElementSpacing = 0.5 0.5 2",
    "ElementByteOrderMSB = False",
    `ElementDataFile = ${name}.raw`,
    "",
  ].join("\n");
  writeFileSync(path.join(dir, `${name}.mhd`), header);
  const bytes = new Uint8Array(data.buffer);
  writeFileSync(path.join(dir, `${name}.raw`), opts.truncateTo === undefined ? bytes : bytes.subarray(0, opts.truncateTo));
}

/** Polls until a condition holds or the time is up (then fails with what was last seen). */
export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 60_000, pollMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(pollMs);
  }
}
