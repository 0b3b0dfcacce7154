// Merging what an extractor (or plug-in) found into a dataset's tags without ever taking a person's tag: the source
// owns the keys it wrote, as long as they still hold what it wrote; a key a person set first, changed or removed is
// theirs from then on, and the source leaves it alone.
import type { TagNode } from "../tags/tag.types.ts";
import type { OwnedKey } from "./extract.repo.ts";

/** Separates the keys of a key path in the ownership record (keys never hold control characters). */
const SEP = "\u001f";

/** A change to the ownership record: the source now owns `keyPath` with `value`, released it (null), or forgot it. */
export type OwnershipOp = { keyPath: string; value: string | null } | { keyPath: string; forget: true };

/** The merged tree, whether it differs from the current one, and the ownership record's changes. */
export interface MergeResult {
  tags: TagNode[];
  changed: boolean;
  ops: OwnershipOp[];
}

/** A deep copy, so the merge never changes the tree it was given (the caller compares before and after). */
function clone(nodes: TagNode[]): TagNode[] {
  return nodes.map((n) => ({ key: n.key, value: n.value, children: clone(n.children) }));
}

/**
 * Merges `wanted` (a source's whole subtree, its top key included; null when it found nothing) into `current`, given
 * what the source wrote before (`owned`): new keys are added and recorded; keys it owns and that still hold its value
 * are updated, or removed when it no longer finds them; keys a person set, changed or removed are never touched.
 */
export function mergeOwned(current: TagNode[], wanted: TagNode | null, owned: OwnedKey[]): MergeResult {
  const tags = clone(current);
  const record = new Map(owned.map((o) => [o.key_path, o.value]));
  const ops: OwnershipOp[] = [];
  const seen = new Set<string>();
  let changed = false;

  const merge = (siblings: TagNode[], want: TagNode, prefix: string): void => {
    const keyPath = prefix === "" ? want.key : `${prefix}${SEP}${want.key}`;
    seen.add(keyPath);
    const mine = record.get(keyPath);
    let node = siblings.find((n) => n.key === want.key);
    if (!node) {
      // Wrote it once and it is gone: a person removed it, and it stays removed (with whatever was below it).
      if (mine !== undefined) {
        if (mine !== null) ops.push({ keyPath, value: null });
        return;
      }
      node = { key: want.key, value: want.value, children: [] };
      siblings.push(node);
      ops.push({ keyPath, value: want.value });
      changed = true;
    } else if (mine !== undefined && mine !== null) {
      if (node.value === mine) {
        if (node.value !== want.value) {
          node.value = want.value;
          changed = true;
        }
        if (mine !== want.value) ops.push({ keyPath, value: want.value });
      } else ops.push({ keyPath, value: null }); // a person's edit: theirs from now on
    }
    // A key a person set first (no record) or took over keeps its value; the source may still add below it.
    for (const child of want.children) merge(node.children, child, keyPath);
  };
  if (wanted) merge(tags, wanted, "");

  // Keys the source wrote and no longer finds: removed when untouched (deepest first, so emptied parents go too).
  const stale = owned.filter((o) => o.value !== null && !seen.has(o.key_path)).sort((a, b) => depth(b.key_path) - depth(a.key_path));
  for (const o of stale) {
    const keys = o.key_path.split(SEP);
    let siblings = tags;
    for (const k of keys.slice(0, -1)) siblings = siblings.find((n) => n.key === k)?.children ?? [];
    const i = siblings.findIndex((n) => n.key === keys.at(-1));
    const node = i >= 0 ? siblings[i] : undefined;
    if (node && node.value === o.value && node.children.length === 0) {
      siblings.splice(i, 1);
      changed = true;
    }
    // Edited, or holding a person's keys below it: it is theirs now, and no longer the source's to track.
    ops.push({ keyPath: o.key_path, forget: true });
  }
  return { tags, changed, ops };
}

function depth(keyPath: string): number {
  return keyPath.split(SEP).length;
}
