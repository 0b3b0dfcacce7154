import { Layout } from "../layout.tsx";
import type { SearchHit, SearchResult } from "../../src/search/search.service.ts";
import type { Segment } from "../../src/search/search.match.ts";
import { formatBytes } from "../datasets/format.ts";

/** The query parameters a search page was opened with, to rebuild links (facets, pages) from. */
export type SearchParams = [string, string][];

/** The same search with some parameters replaced, added or dropped. */
export function searchHref(params: SearchParams, change: { set?: Record<string, string>; add?: [string, string]; drop?: [string, string] }): string {
  const u = new URLSearchParams();
  const set = change.set ?? {};
  for (const [k, v] of params) {
    if (k in set) continue;
    if (change.drop && change.drop[0] === k && change.drop[1] === v) continue;
    u.append(k, v);
  }
  for (const [k, v] of Object.entries(set)) if (v !== "") u.set(k, v);
  if (change.add && !params.some(([k, v]) => k === change.add![0] && v === change.add![1])) u.append(...change.add);
  const s = u.toString();
  return s ? `/search?${s}` : "/search";
}

function Marked(p: { segs: Segment[] }) {
  return <>{p.segs.map((s) => (s.hit ? <mark>{s.text}</mark> : s.text))}</>;
}

function Hit(p: { hit: SearchHit }) {
  const h = p.hit;
  return (
    <li class="search-hit">
      <a class="search-hit-title" href={`/datasets/${h.id}`}>
        {h.title ? <Marked segs={h.highlight.title} /> : <span class="muted">{h.path}</span>}
      </a>
      <span class="search-matches">{h.matches === 1 ? "1 match" : `${h.matches} matches`}</span>
      <div class="muted search-hit-meta">
        {h.path} · {h.owner ?? "no owner"} · {formatBytes(h.bytes)} · {new Date(h.createdAt).toISOString().slice(0, 10)}
        {h.state === "missing" ? <span class="state-missing"> · missing</span> : null}
      </div>
      {h.highlight.description.length ? (
        <p class="search-hit-desc">
          <Marked segs={h.highlight.description} />
        </p>
      ) : null}
      {h.highlight.tags.length ? (
        <ul class="search-hit-tags">
          {h.highlight.tags.map((t) => (
            <li>
              <Marked segs={t} />
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

/** The results with facets and pager: the part the search form swaps by htmx. */
export function SearchResults(p: { result: SearchResult & { expandedTo?: string }; params: SearchParams; error?: string }) {
  const r = p.result;
  if (p.error) {
    return (
      <div id="search-results" class="search-results">
        <p class="error" role="alert">
          {p.error}
        </p>
      </div>
    );
  }
  const hasQuery = r.query.terms.length > 0 || p.params.some(([k, v]) => k !== "q" && k !== "offset" && v !== "");
  const tagFilters = p.params.filter(([k, v]) => k === "tag" && v !== "");
  const next = r.offset + r.limit < r.total;
  return (
    <div id="search-results" class="search-results">
      {tagFilters.length ? (
        <p class="search-active">
          Filters:{" "}
          {tagFilters.map(([, v]) => (
            <a class="search-chip" href={searchHref(p.params, { drop: ["tag", v], set: { offset: "" } })} title="Remove this filter">
              {v} ×
            </a>
          ))}
        </p>
      ) : null}
      {!hasQuery ? (
        <p class="muted">Type words to find datasets by title, description and tags.</p>
      ) : r.items.length === 0 ? (
        <p class="search-none">No dataset matches.</p>
      ) : (
        <div class="search-body">
          <div>
            {r.expandedTo ? (
              <p class="search-expanded">
                Nothing matched the words as typed; showing results for <code>{r.expandedTo}</code>.
              </p>
            ) : null}
            <p class="muted search-total">
              {r.totalCapped ? `More than ${r.total.toLocaleString("en")}` : r.total.toLocaleString("en")} {r.total === 1 ? "dataset" : "datasets"}
              {r.ranked ? ", most matches first" : "; the newest are shown, most matches first: add words or filters to narrow"}
              {r.offset > 0 ? ` (from ${r.offset + 1})` : ""}
            </p>
            <ol class="search-hits">
              {r.items.map((h) => (
                <Hit hit={h} />
              ))}
            </ol>
            <nav class="search-pager">
              {r.offset > 0 ? <a href={searchHref(p.params, { set: { offset: String(Math.max(0, r.offset - r.limit)) } })}>← Previous</a> : null}
              {next ? <a href={searchHref(p.params, { set: { offset: String(r.offset + r.limit) } })}>Next →</a> : null}
            </nav>
          </div>
          {r.facets && (r.facets.pairs.length || r.facets.keys.length) ? (
            <aside class="search-facets">
              <h2>Common tags</h2>
              <p class="muted">among the first {r.facets.window} results</p>
              <ul>
                {r.facets.pairs.map((f) => (
                  <li>
                    <a href={searchHref(p.params, { add: ["tag", `${f.key}=${f.value}`], set: { offset: "" } })}>
                      {f.key}
                      {f.value ? ` = ${f.value}` : ""}
                    </a>{" "}
                    <span class="muted">{f.count}</span>
                  </li>
                ))}
              </ul>
              <h2>Common keys</h2>
              <ul>
                {r.facets.keys.map((f) => (
                  <li>
                    <a href={searchHref(p.params, { add: ["tag", `${f.key}:`], set: { offset: "" } })}>{f.key}</a> <span class="muted">{f.count}</span>
                  </li>
                ))}
              </ul>
            </aside>
          ) : null}
        </div>
      )}
    </div>
  );
}

/** The search page: the form with its filters, then the results. */
export function SearchPage(p: {
  result: SearchResult & { expandedTo?: string };
  params: SearchParams;
  error?: string;
  user?: { name: string; isAdmin: boolean } | null;
}) {
  const get = (k: string) => p.params.find(([n]) => n === k)?.[1] ?? "";
  return (
    <Layout title={get("q") ? `Search: ${get("q")}` : "Search"} user={p.user}>
      <h1>Search</h1>
      <form
        class="search-form"
        action="/search"
        method="get"
        hx-get="/search"
        hx-target="#search-results"
        hx-select="#search-results"
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="submit, input changed delay:300ms from:#search-q"
      >
        <input
          id="search-q"
          type="search"
          name="q"
          value={get("q")}
          placeholder='lung "micro CT" biop* *ample_CT* Species=sheep Patient:'
          aria-label="Search text"
          autofocus
        />
        <button class="primary" type="submit">
          Search
        </button>
        {p.params
          .filter(([k, v]) => k === "tag" && v !== "")
          .map(([, v]) => (
            <input type="hidden" name="tag" value={v} />
          ))}
        <details class="search-more" open={["owner", "from", "to", "minSize", "maxSize"].some((k) => get(k) !== "")}>
          <summary>Filters</summary>
          <label>
            Owner <input name="owner" value={get("owner")} size={12} />
          </label>
          <label>
            Created from <input type="date" name="from" value={get("from")} />
          </label>
          <label>
            to <input type="date" name="to" value={get("to")} />
          </label>
          <label>
            Size at least <input name="minSize" value={get("minSize")} placeholder="10 MiB" size={8} />
          </label>
          <label>
            at most <input name="maxSize" value={get("maxSize")} placeholder="2 GiB" size={8} />
          </label>
        </details>
        <p class="muted search-help">
          Words must all appear; <code>"two words"</code> finds the exact phrase, <code>biop*</code> a prefix, <code>*ample_CT*</code> any substring,{" "}
          <code>Species=sheep</code> a tag, <code>Patient:</code> a tag key.
        </p>
      </form>
      <SearchResults result={p.result} params={p.params} error={p.error} />
    </Layout>
  );
}

/** The drop-down under the header's search box while typing. */
export function SearchSuggest(p: { q: string; items: SearchHit[]; full?: string }) {
  if (!p.q.trim()) return <div id="search-suggest" class="search-suggest"></div>;
  return (
    <div id="search-suggest" class="search-suggest">
      {p.items.length === 0 ? (
        <p class="muted">No dataset matches.</p>
      ) : (
        <ul>
          {p.items.map((h) => (
            <li>
              <a href={`/datasets/${h.id}`}>{h.title ? <Marked segs={h.highlight.title} /> : h.path}</a>
            </li>
          ))}
        </ul>
      )}
      <a class="search-suggest-all" href={`/search?q=${encodeURIComponent(p.full ?? p.q)}`}>
        All results for “{p.q}”
      </a>
    </div>
  );
}
