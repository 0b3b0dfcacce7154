import type { Database } from "bun:sqlite";
import { hashParts } from "./tag-hash.ts";
import type { TagNode } from "./tag.types.ts";

interface TagRow {
  id: number;
  parent_id: number | null;
  key: string;
  value: string;
}

/** The tag rows of datasets: read as a tree, written as a whole tree (the service runs it in a transaction). */
export function tagsRepo(db: Database) {
  const rows = db.query<TagRow, [number]>("SELECT id, parent_id, key, value FROM tags WHERE dataset_id = ? ORDER BY parent_id NULLS FIRST, position, id");
  const removeAll = db.query<never, [number]>("DELETE FROM tags WHERE dataset_id = ?");
  const insert = db.query<{ id: number }, [number, number | null, number, string, string]>(
    "INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, ?, ?, ?, ?) RETURNING id",
  );
  const setHash = db.query<never, [string, number]>("UPDATE tags SET subtree_hash = ? WHERE id = ?");
  const version = db.query<{ tags_version: number }, [number]>("SELECT tags_version FROM datasets WHERE id = ?");
  const bump = db.query<{ tags_version: number }, [number, number]>(
    "UPDATE datasets SET tags_version = tags_version + 1, updated_at = ? WHERE id = ? RETURNING tags_version",
  );

  function tree(datasetId: number): TagNode[] {
    const nodes = new Map<number, TagNode>();
    const roots: TagNode[] = [];
    for (const r of rows.all(datasetId)) {
      const node: TagNode = { key: r.key, value: r.value, children: [] };
      nodes.set(r.id, node);
      if (r.parent_id === null) roots.push(node);
      else nodes.get(r.parent_id)?.children.push(node);
    }
    return roots;
  }

  /** Inserts a subtree and returns its hash; the hash is written after the children are known. */
  function insertNodes(datasetId: number, parentId: number | null, nodes: TagNode[]): string[] {
    return nodes.map((n, position) => {
      const id = insert.get(datasetId, parentId, position, n.key, n.value)!.id;
      const hash = hashParts(n.key, n.value, insertNodes(datasetId, id, n.children));
      setHash.run(hash, id);
      return hash;
    });
  }

  return {
    tree,
    tagsVersion: (datasetId: number) => version.get(datasetId)?.tags_version,
    /** Replaces a dataset's whole tree and bumps its tags_version; returns the new version. */
    replace(datasetId: number, tags: TagNode[], now: number): number {
      removeAll.run(datasetId);
      insertNodes(datasetId, null, tags);
      return bump.get(now, datasetId)!.tags_version;
    },
  };
}
