import type { AppContext } from "../context.ts";
import { searchRepo, type DocRow, type RowFilters } from "./search.repo.ts";
import { ftsExpression, parseQuery, trigramExpression, type ParsedQuery } from "./search.query.ts";
import { matchField, segments, snippet, type Segment } from "./search.match.ts";
import type { TagFilter } from "./tag-filter.ts";

/** The first results are ordered by exact match counts; deeper pages keep the index's ranking (ordered within the page). */
const MATCH_WINDOW = 200;
/** Facets summarise this many top results, which bounds their cost whatever the query. */
const FACET_WINDOW = 500;
/** Counting stops here: an exact total of a very common word is not worth its cost. */
const COUNT_CAP = 10_000;

/** What a search was asked for, after the route validated it. */
export interface SearchInput {
  q: string;
  filters: Omit<RowFilters, "tags"> & { tags?: TagFilter[] };
  limit: number;
  offset: number;
  facets?: boolean;
}

/** One result with its match count and the highlighted places it matched. */
export interface SearchHit {
  id: number;
  title: string;
  path: string;
  owner: string | null;
  state: "present" | "missing";
  bytes: number;
  createdAt: number;
  matches: number;
  highlight: { title: Segment[]; description: Segment[]; tags: Segment[][] };
}

/** A facet entry: a key (value undefined) or a key=value pair, with how many of the top results carry it. */
export interface Facet {
  key: string;
  value?: string;
  count: number;
}

/** A page of results, the total (a lower bound when capped), and facets over the top results when asked. */
export interface SearchResult {
  query: ParsedQuery;
  items: SearchHit[];
  total: number;
  totalCapped: boolean;
  /** False when so many match that the window ordered by matches is the newest ones rather than the best scored. */
  ranked: boolean;
  limit: number;
  offset: number;
  facets?: { keys: Facet[]; pairs: Facet[]; window: number };
}

/** How many dirty datasets one index transaction folds in. */
const FLUSH_BATCH = 5_000;

/**
 * Brings the text indexes up to date with every dataset and tag write the triggers recorded (all of them, or at
 * most `max`); cheap when nothing changed. Returns how many datasets were re-indexed.
 */
export function refreshSearchIndex(ctx: AppContext, max = Number.POSITIVE_INFINITY): number {
  const repo = searchRepo(ctx.db);
  let done = 0;
  while (done < max && repo.isDirty()) done += repo.flush(Math.min(FLUSH_BATCH, max - done));
  return done;
}

/** While typing, or when a whole word finds nothing, the last word may be unfinished: search it as a prefix. */
export function withPrefixLastWord(q: string): string {
  return /(^|\s)[^\s"*=:]+$/.test(q) ? `${q}*` : q;
}

/**
 * A search for a page: when the words as typed find nothing and the last one may be unfinished ("lung bio"),
 * the same search with it as a prefix; `expandedTo` says so.
 */
export function searchForPage(ctx: AppContext, input: SearchInput): SearchResult & { expandedTo?: string } {
  const first = search(ctx, input);
  const wider = withPrefixLastWord(input.q);
  if (first.total > 0 || wider === input.q) return first;
  const second = search(ctx, { ...input, q: wider });
  return second.total > 0 ? { ...second, expandedTo: wider } : first;
}

/** Runs a search: parse, refresh the indexes, rank, count matches for the page only, highlight. */
export function search(ctx: AppContext, input: SearchInput): SearchResult {
  const query = parseQuery(input.q);
  const filters: RowFilters = { ...input.filters, tags: [...query.tags, ...(input.filters.tags ?? [])] };
  const empty: SearchResult = { query, items: [], total: 0, totalCapped: false, ranked: true, limit: input.limit, offset: input.offset };
  const hasRowFilter = filters.tags.length > 0 || [filters.owner, filters.from, filters.to, filters.minBytes, filters.maxBytes].some((v) => v !== undefined);
  if (query.terms.length === 0 && !hasRowFilter) return empty;

  refreshSearchIndex(ctx);
  const repo = searchRepo(ctx.db);
  const fts = ftsExpression(query.terms);
  const tri = trigramExpression(query.terms);

  // One pass over the index, newest first, stopping after COUNT_CAP + 1 matches: below the cap every match is ranked
  // by score; past it (a word most datasets contain) scoring them all would cost more than the rest of the request,
  // so the newest matches form the window, which is then ordered by number of matches like any other.
  const rows = repo.matches(fts, tri, filters, COUNT_CAP + 1);
  const ranked = rows.length <= COUNT_CAP;
  const ordered = ranked ? rows.sort((a, b) => a.score - b.score || b.id - a.id) : rows.slice(0, COUNT_CAP);
  const inWindow = input.offset + input.limit <= MATCH_WINDOW;
  const pageIds = inWindow
    ? ordered.slice(0, MATCH_WINDOW).map((r) => r.id)
    : input.offset + input.limit <= ordered.length
      ? ordered.slice(input.offset, input.offset + input.limit).map((r) => r.id)
      : repo.ids(fts, tri, filters, input.limit, input.offset, ranked);
  const byId = new Map(repo.docs(pageIds).map((d) => [d.id, d]));
  const hits = pageIds.flatMap((id, rank) => {
    const d = byId.get(id);
    return d ? [{ hit: toHit(d, query), rank }] : [];
  });
  // Most matches first; the index's ranking breaks ties.
  hits.sort((a, b) => b.hit.matches - a.hit.matches || a.rank - b.rank);
  const items = (inWindow ? hits.slice(input.offset, input.offset + input.limit) : hits).map((h) => h.hit);

  const result: SearchResult = { ...empty, items, total: Math.min(rows.length, COUNT_CAP), totalCapped: !ranked, ranked };
  if (input.facets) {
    const window = ordered.slice(0, FACET_WINDOW).map((r) => r.id);
    const f = repo.facets(window, 12);
    result.facets = {
      window: window.length,
      keys: f.keys.map((k) => ({ key: k.key, count: k.n })),
      pairs: f.pairs.map((p) => ({ key: p.key, value: p.value, count: p.n })),
    };
  }
  return result;
}

function toHit(d: DocRow, q: ParsedQuery): SearchHit {
  const title = matchField(d.title, q.terms);
  const description = matchField(d.description, q.terms);
  const tagLines = d.tags ? d.tags.split("\n") : [];
  let tagCount = 0;
  const tags: Segment[][] = [];
  for (const line of tagLines) {
    const m = matchField(line, q.terms);
    tagCount += m.count;
    if (m.count > 0 && tags.length < 6) tags.push(segments(line, m.ranges));
  }
  return {
    id: d.id,
    title: d.title,
    path: d.path,
    owner: d.owner,
    state: d.state,
    bytes: d.byte_count,
    createdAt: d.created_at,
    matches: title.count + description.count + tagCount,
    highlight: {
      title: segments(d.title, title.ranges),
      description: snippet(d.description, description),
      tags,
    },
  };
}
