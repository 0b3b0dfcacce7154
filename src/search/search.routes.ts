import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError } from "../errors.ts";
import { search, searchForPage, withPrefixLastWord, type SearchResult } from "./search.service.ts";
import { searchInput } from "./search.params.ts";
import { SearchPage, SearchSuggest, type SearchParams } from "../../templates/search/search.tsx";

function pageParams(url: string): SearchParams {
  return [...new URL(url).searchParams.entries()].filter(([k]) => k !== "limit");
}

/** Search: the JSON API, the search page (also its htmx fragment) and the header's search-as-you-type drop-down. */
export const searchRoutes = new Hono<AppEnv>()
  .get("/api/v1/search", (c) => {
    const input = searchInput((n) => c.req.query(n), (n) => c.req.queries(n), 50);
    const r = search(c.var.ctx, { ...input, facets: c.req.query("facets") === "1" });
    return c.json({
      items: r.items.map((h) => ({ id: h.id, title: h.title, matches: h.matches, path: h.path, owner: h.owner, state: h.state, bytes: h.bytes, createdAt: h.createdAt })),
      total: r.total,
      totalCapped: r.totalCapped,
      ranked: r.ranked,
      limit: r.limit,
      offset: r.offset,
      ...(r.facets ? { facets: r.facets } : {}),
    });
  })
  .get("/search", (c) => {
    const params = pageParams(c.req.url);
    let result: SearchResult & { expandedTo?: string };
    try {
      const input = searchInput((n) => c.req.query(n), (n) => c.req.queries(n), 20);
      result = searchForPage(c.var.ctx, { ...input, facets: true });
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 400) throw err;
      const empty: SearchResult = { query: { terms: [], tags: [] }, items: [], total: 0, totalCapped: false, ranked: true, limit: 20, offset: 0 };
      // htmx swaps only successful responses: the message must arrive as one to replace stale results.
      return c.html(SearchPage({ result: empty, params, error: err.message, user: c.var.user }), c.req.header("HX-Request") ? 200 : 400);
    }
    return c.html(SearchPage({ result, params, user: c.var.user }));
  })
  .get("/search/suggest", (c) => {
    const q = c.req.query("q") ?? "";
    if (!q.trim()) return c.html(SearchSuggest({ q, items: [] }));
    try {
      // While typing, the last word is still being written.
      const full = withPrefixLastWord(q);
      const r = search(c.var.ctx, { q: full, filters: {}, limit: 8, offset: 0 });
      return c.html(SearchSuggest({ q, items: r.items, full }));
    } catch (err) {
      // Half-typed input ("*a") is not worth an error while typing; the full search explains it.
      if (err instanceof AppError && err.status === 400) return c.html(SearchSuggest({ q, items: [] }));
      throw err;
    }
  });
