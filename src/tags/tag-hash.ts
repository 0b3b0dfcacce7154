import { createHash } from "node:crypto";
import type { TagNode } from "./tag.types.ts";

/**
 * A digest equal for equal subtrees (same key, value and children, children order ignored), so search can
 * treat two datasets' "Patient" tags as the same patient exactly when everything below them matches.
 */
export function subtreeHash(node: TagNode): string {
  return hashParts(node.key, node.value, node.children.map(subtreeHash));
}

/** The same digest from a node's parts and its children's digests, for writers that hash bottom-up in one pass. */
export function hashParts(key: string, value: string, childHashes: string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([key, value, [...childHashes].sort()]))
    .digest("hex");
}
