import { badRequest } from "../errors.ts";
import type { SearchInput } from "./search.service.ts";
import { parseTagFilter } from "./tag-filter.ts";
import { intParam } from "../web/params.ts";

const DAY = 86_400_000;
const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** A day `YYYY-MM-DD` (UTC) as ms since the epoch, or a 400 naming the parameter. */
export function dateParam(value: string | undefined, name: string): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).getUTCDate() !== Number(m[3])) {
    throw badRequest(`${name} must be a date like 2024-03-31, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return t;
}

/** A size such as `500`, `20 MB` or `1.5GiB` in bytes, or a 400 naming the parameter. */
export function sizeParam(value: string | undefined, name: string): number | undefined {
  if (!value) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw badRequest(`${name} must be a size like 500, 20 MB or 1.5 GiB, got ${JSON.stringify(value.slice(0, 40))}`);
  return Math.round(Number(m[1]) * unit);
}

/** The search input from a request's query parameters (shared by the JSON route and the pages). */
export function searchInput(query: (name: string) => string | undefined, queries: (name: string) => string[] | undefined, defLimit: number): SearchInput {
  const to = dateParam(query("to"), "to");
  return {
    q: query("q") ?? "",
    filters: {
      tags: (queries("tag") ?? []).filter((t) => t !== "").map(parseTagFilter),
      owner: query("owner") || undefined,
      from: dateParam(query("from"), "from"),
      // `to` names a whole day: everything created on it is included.
      to: to === undefined ? undefined : to + DAY,
      minBytes: sizeParam(query("minSize"), "minSize"),
      maxBytes: sizeParam(query("maxSize"), "maxSize"),
    },
    limit: intParam(query("limit"), "limit", defLimit, 1, 200),
    offset: intParam(query("offset"), "offset", 0, 0, 100_000),
  };
}
