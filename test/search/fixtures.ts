import type { Database } from "bun:sqlite";
import { hashParts } from "../../src/tags/tag-hash.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";

let uid = 0;

/** Inserts a dataset row directly (as the sync engine would) and returns its id. */
export function addDataset(
  db: Database,
  d: { title: string; description?: string; owner?: string; createdAt?: number; bytes?: number; path?: string },
): number {
  const n = ++uid;
  const now = d.createdAt ?? Date.UTC(2024, 0, 1);
  return db
    .query<{ id: number }, [string, string, string, string, string | null, number, number, number]>(
      `INSERT INTO datasets (uid, path, title, description, owner, byte_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(`uid-${process.pid}-${n}`, d.path ?? `ds-${n}`, d.title, d.description ?? "", d.owner ?? null, d.bytes ?? 0, now, now)!.id;
}

/** Writes a dataset's tag tree as tag rows with subtree hashes, the way the metadata service stores them. */
export function setTags(db: Database, datasetId: number, tags: TagNode[]): void {
  db.transaction(() => {
    db.query("DELETE FROM tags WHERE dataset_id = ?").run(datasetId);
    const ins = db.query<{ id: number }, [number, number | null, number, string, string]>(
      "INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, ?, ?, ?, ?) RETURNING id",
    );
    const setHash = db.query("UPDATE tags SET subtree_hash = ? WHERE id = ?");
    const write = (parent: number | null, nodes: TagNode[]): string[] =>
      nodes.map((n, i) => {
        const id = ins.get(datasetId, parent, i, n.key, n.value)!.id;
        const h = hashParts(n.key, n.value, write(id, n.children));
        setHash.run(h, id);
        return h;
      });
    write(null, tags);
  })();
}

/** A tag node, shorter to write in tests. */
export function t(key: string, value = "", children: TagNode[] = []): TagNode {
  return { key, value, children };
}

/** Records that `child` was derived from each of `parents`. */
export function relate(db: Database, child: number, ...parents: number[]): void {
  const ins = db.query("INSERT INTO relations (child_id, parent_id, position) VALUES (?, ?, ?)");
  parents.forEach((p, i) => ins.run(child, p, i));
}
