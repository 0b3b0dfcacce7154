import { z } from "zod";
import { AppError } from "../errors.ts";
import { route } from "../web/route.ts";
import { html, json } from "../web/schemas.ts";
import { search, searchForPage, withPrefixLastWord, type SearchResult } from "./search.service.ts";
import { searchInput, searchQuery } from "./search.params.ts";
import { SearchPage, SearchSuggest, type SearchParams } from "../../templates/search/search.tsx";

function pageParams(url: string): SearchParams {
  return [...new URL(url).searchParams.entries()].filter(([k]) => k !== "limit");
}

const Facet = z.object({ key: z.string(), value: z.string().optional(), count: z.number().int() });
const SearchAnswer = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      title: z.string(),
      matches: z.number().int().meta({ description: "How many times the query matched (results are ordered by it)" }),
      path: z.string(),
      owner: z.string().nullable(),
      state: z.enum(["present", "missing"]),
      bytes: z.number(),
      createdAt: z.number().meta({ description: "ms since the epoch" }),
    }),
  ),
  total: z.number().int(),
  totalCapped: z.boolean().meta({ description: "True when `total` is a lower bound" }),
  ranked: z.boolean().meta({ description: "False when so many match that the page is ordered newest first rather than by matches" }),
  limit: z.number().int(),
  offset: z.number().int(),
  facets: z.object({ keys: z.array(Facet), pairs: z.array(Facet), window: z.number().int() }).optional(),
});

/** Search: the JSON API, the search page (also its htmx fragment) and the header's search-as-you-type drop-down. */
export const searchRoutes = [
  route({
    method: "get",
    path: "/api/v1/search",
    access: "signed-in",
    group: "search",
    summary: "Search titles, descriptions and tags, most matches first",
    query: searchQuery(50),
    responses: { 200: json(SearchAnswer, "A page of results") },
    handler: (c, { query }) => {
      const r = search(c.var.ctx, searchInput(query));
      return c.json({
        items: r.items.map((h) => ({
          id: h.id,
          title: h.title,
          matches: h.matches,
          path: h.path,
          owner: h.owner,
          state: h.state,
          bytes: h.bytes,
          createdAt: h.createdAt,
        })),
        total: r.total,
        totalCapped: r.totalCapped,
        ranked: r.ranked,
        limit: r.limit,
        offset: r.offset,
        ...(r.facets ? { facets: r.facets } : {}),
      });
    },
  }),
  route({
    method: "get",
    path: "/search",
    access: "signed-in",
    summary: "The search page with filters and facets (an htmx request gets it too, to swap the results)",
    query: searchQuery(20),
    responses: { 200: html(), 400: html("The page with the refusal") },
    handler: (c, { query }) => {
      const params = pageParams(c.req.url);
      let result: SearchResult & { expandedTo?: string };
      try {
        result = searchForPage(c.var.ctx, { ...searchInput(query), facets: true });
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 400) throw err;
        const empty: SearchResult = { query: { terms: [], tags: [] }, items: [], total: 0, totalCapped: false, ranked: true, limit: 20, offset: 0 };
        // htmx swaps only successful responses: the message must arrive as one to replace stale results.
        return c.html(SearchPage({ result: empty, params, error: err.message, user: c.var.user }), c.req.header("HX-Request") ? 200 : 400);
      }
      return c.html(SearchPage({ result, params, user: c.var.user }));
    },
  }),
  route({
    method: "get",
    path: "/search/suggest",
    access: "signed-in",
    summary: "The header's search-as-you-type drop-down",
    query: z.object({ q: z.string().max(2000).optional() }),
    responses: { 200: html("The drop-down fragment") },
    handler: (c, { query }) => {
      const q = query.q ?? "";
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
    },
  }),
];
