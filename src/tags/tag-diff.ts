// What a change of a tag tree changed, for the audit log.
import type { TagNode } from "./tag.types.ts";

/** A tag tree flattened to "Key/Child" paths and their values, in order (a key may repeat). */
function flatten(tags: TagNode[], prefix = "", out = new Map<string, string[]>()): Map<string, string[]> {
  for (const t of tags) {
    const key = prefix + t.key;
    out.set(key, [...(out.get(key) ?? []), t.value]);
    flatten(t.children, `${key}/`, out);
  }
  return out;
}

/**
 * The before and after of a tag change, as only the paths whose values changed ("Scan/Voltage": "90" -> "120"),
 * so an entry stays small and readable however large the tree; a change of order alone says so.
 */
export function tagChange(before: TagNode[], after: TagNode[]): { before: Record<string, unknown>; after: Record<string, unknown>; reordered: boolean } {
  const a = flatten(before);
  const b = flatten(after);
  const out = { before: {} as Record<string, unknown>, after: {} as Record<string, unknown>, reordered: false };
  const one = (v: string[]) => (v.length === 1 ? v[0] : v);
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    if (x && y && x.length === y.length && x.every((v, i) => v === y[i])) continue;
    if (x) out.before[key] = one(x);
    if (y) out.after[key] = one(y);
  }
  out.reordered = Object.keys(out.before).length === 0 && Object.keys(out.after).length === 0 && JSON.stringify(before) !== JSON.stringify(after);
  return out;
}
