import { mkdirSync } from "node:fs";
import path from "node:path";
import type { AppContext } from "../../src/context.ts";
import { createSession } from "../../src/auth/session.service.ts";

/** Inserts a dataset row with a real folder under the root (so the sidecar mirror can be written); returns its id. */
export function addDataset(ctx: AppContext, p: { path: string; title?: string; description?: string; owner?: string; files?: number; bytes?: number }): number {
  mkdirSync(path.join(ctx.config.root, p.path), { recursive: true });
  const now = Date.now();
  const row = ctx.db
    .query<{ id: number }, [string, string, string, string, string, number, number, number, number]>(
      "INSERT INTO datasets (uid, path, title, description, owner, file_count, byte_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .get(crypto.randomUUID(), p.path, p.title ?? "", p.description ?? "", p.owner ?? "alice", p.files ?? 0, p.bytes ?? 0, now, now);
  return row!.id;
}

/** Adds a file row to a dataset. */
export function addFile(ctx: AppContext, datasetId: number, rel: string, size: number, mtime: number): void {
  ctx.db
    .query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, ?, ?)")
    .run(datasetId, rel, size, mtime, Math.floor(Math.random() * 1e9), Date.now());
}

/** A signed-in session (an admin unless told otherwise): cookie and CSRF headers for `app.request`, and the raw cookie for a browser. */
export function signIn(ctx: AppContext, name = "alice", isAdmin = true): { headers: Record<string, string>; cookie: string; csrf: string } {
  const s = createSession(ctx, { name, isAdmin, groups: [] }, "test");
  return { headers: { Cookie: `mata_session=${s.cookieValue}`, "X-CSRF-Token": s.csrf }, cookie: s.cookieValue, csrf: s.csrf };
}
