import { mkdirSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../../src/context.ts";

/**
 * Puts a dataset with real files on disk and matching rows in the database, for tests of features
 * that read datasets without running the sync engine.
 */
export function putDataset(
  ctx: AppContext,
  relPath: string,
  files: Record<string, string | Uint8Array> = {},
  fields: { title?: string; owner?: string; description?: string } = {},
): number {
  const dir = path.join(ctx.config.root, relPath);
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  let bytes = 0;
  const rows: { path: string; size: number; mtime: number; ino: number }[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    const st = statSync(abs);
    rows.push({ path: rel, size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino });
    bytes += st.size;
  }
  const id = Number(
    ctx.db
      .query("INSERT INTO datasets (uid, path, title, description, owner, file_count, byte_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(crypto.randomUUID(), relPath, fields.title ?? "", fields.description ?? "", fields.owner ?? "admin", rows.length, bytes, now, now).lastInsertRowid,
  );
  const insert = ctx.db.query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  for (const r of rows) insert.run(id, r.path, r.size, r.mtime, r.ino, now);
  return id;
}
