import { badRequest } from "../errors.ts";
import type { SearchInput } from "./search.service.ts";
import { parseTagFilter } from "./tag-filter.ts";
import { z } from "zod";
import { queryFlag, queryInt, queryList, queryText } from "../web/schemas.ts";

// Filters per request are bounded: each is a join, and a thousand of them is an attack, not a question.
export const MAX_TAG_FILTERS = 20;

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

/** The query parameters of a search, for the JSON route and the pages (`defLimit` differs between them). */
export function searchQuery(defLimit: number) {
  return z.object({
    q: queryText(100_000, 'Words, "a phrase", prefix*, *substring*, Key=value, Key:'),
    tag: queryList(z.string().max(1000), MAX_TAG_FILTERS, "A tag filter, KEY=VALUE or KEY:; repeat for all of several"),
    owner: queryText(200, "Owner's account name"),
    from: queryText(40, "Created on or after this day, YYYY-MM-DD (UTC)"),
    to: queryText(40, "Created on or before this day, YYYY-MM-DD (UTC)"),
    minSize: queryText(40, "At least this size: 500, 20 MB, 1.5 GiB"),
    maxSize: queryText(40, "At most this size"),
    limit: queryInt(1, 200, defLimit),
    offset: queryInt(0, 100_000, 0),
    facets: queryFlag("1: also count the keys and key=value pairs of the top results"),
  });
}

/** The search input from a request's validated query (dates and sizes are read here, naming the parameter). */
export function searchInput(q: z.output<ReturnType<typeof searchQuery>>): SearchInput {
  const to = dateParam(q.to, "to");
  return {
    q: q.q ?? "",
    filters: {
      tags: q.tag.filter((t) => t !== "").map(parseTagFilter),
      owner: q.owner,
      from: dateParam(q.from, "from"),
      // `to` names a whole day: everything created on it is included.
      to: to === undefined ? undefined : to + DAY,
      minBytes: sizeParam(q.minSize, "minSize"),
      maxBytes: sizeParam(q.maxSize, "maxSize"),
    },
    limit: q.limit,
    offset: q.offset,
    facets: q.facets,
  };
}
