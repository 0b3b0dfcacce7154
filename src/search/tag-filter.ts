import { badRequest } from "../errors.ts";

/** A tag condition: the key with exactly this value, or (no value) the key with any value; at any depth of the tree. */
export interface TagFilter {
  key: string;
  value?: string;
}

/** Parses `KEY=VALUE`, `KEY:VALUE` or `KEY:` from a `tag=` query parameter, so the list route and search agree on the syntax. */
export function parseTagFilter(raw: string): TagFilter {
  const m = /^([^=:]*)([=:])(.*)$/s.exec(raw);
  const key = (m ? m[1]! : raw).trim();
  if (!key) throw badRequest(`The tag filter ${JSON.stringify(raw.slice(0, 80))} needs a key: KEY=VALUE, KEY:VALUE or KEY:`);
  if (!m || (m[2] === ":" && m[3] === "")) return { key };
  return { key, value: m[3]! };
}
