import { Layout } from "../layout.tsx";
import type { Cloud, TagTarget } from "../../src/search/cloud.service.ts";
import type { TaggedDataset } from "../../src/search/cloud.repo.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";

type User = { name: string; isAdmin: boolean } | null | undefined;

function tagHref(key: string, value?: string): string {
  const u = new URLSearchParams({ key });
  if (value !== undefined) u.set("value", value);
  return `/tags/by?${u}`;
}

function cloudHref(c: Cloud, change: { mode?: string; offset?: number }): string {
  const u = new URLSearchParams();
  const mode = change.mode ?? c.mode;
  if (mode !== "pairs") u.set("mode", mode);
  if (c.prefix) u.set("prefix", c.prefix);
  const offset = change.offset ?? 0;
  if (offset) u.set("offset", String(offset));
  const s = u.toString();
  return s ? `/tags?${s}` : "/tags";
}

/** The tag cloud page: every tag alphabetically, sized by how many datasets carry it. */
export function CloudPage(p: { cloud: Cloud; user?: User }) {
  const c = p.cloud;
  return (
    <Layout title="Tags" user={p.user}>
      <h1>Tags</h1>
      <div class="cloud-controls">
        <nav class="cloud-mode" aria-label="Cloud mode">
          {c.mode === "pairs" ? <strong>key = value</strong> : <a href={cloudHref(c, { mode: "pairs" })}>key = value</a>}
          {" · "}
          {c.mode === "keys" ? <strong>keys only</strong> : <a href={cloudHref(c, { mode: "keys" })}>keys only</a>}
        </nav>
        <form action="/tags" method="get" class="cloud-filter">
          {c.mode === "keys" ? <input type="hidden" name="mode" value="keys" /> : null}
          <input type="search" name="prefix" value={c.prefix} placeholder="Keys starting with…" aria-label="Keys starting with" />
        </form>
        <span class="muted">
          {c.total.toLocaleString("en")} {c.mode === "pairs" ? "distinct tags" : "distinct keys"}
          {c.total > c.limit ? `, ${c.offset + 1}–${Math.min(c.total, c.offset + c.limit)} shown` : ""}
        </span>
      </div>
      {c.items.length === 0 ? (
        <p class="muted">No tags yet{c.prefix ? ` with a key starting “${c.prefix}”` : ""}.</p>
      ) : (
        <p class="cloud" id="tag-cloud">
          {c.items.map((t) => (
            <a
              class="cloud-tag"
              href={tagHref(t.key, t.value)}
              style={`font-size:${t.size}em`}
              title={`${t.count} ${t.count === 1 ? "dataset" : "datasets"}`}
              data-count={String(t.count)}
            >
              {t.value === undefined ? t.key : t.value === "" ? t.key : `${t.key} = ${t.value}`}
            </a>
          ))}
        </p>
      )}
      <nav class="search-pager">
        {c.offset > 0 ? <a href={cloudHref(c, { offset: Math.max(0, c.offset - c.limit) })}>← Previous</a> : null}
        {c.offset + c.limit < c.total ? <a href={cloudHref(c, { offset: c.offset + c.limit })}>Next →</a> : null}
      </nav>
    </Layout>
  );
}

/** A tag subtree drawn as nested lists. */
export function TagTree(p: { node: TagNode }) {
  return (
    <ul class="tag-tree">
      <li>
        <span class="tag-key">{p.node.key}</span>
        {p.node.value !== "" ? (
          <>
            {" = "}
            <span class="tag-value">{p.node.value}</span>
          </>
        ) : null}
        {p.node.children.length ? p.node.children.map((ch) => <TagTree node={ch} />) : null}
      </li>
    </ul>
  );
}

/** Every dataset carrying one tag subtree. */
export function TagPage(p: {
  hash: string;
  tag: TagNode;
  total: number;
  alphabetical: boolean;
  items: TaggedDataset[];
  limit: number;
  offset: number;
  user?: User;
}) {
  const label = p.tag.value ? `${p.tag.key} = ${p.tag.value}` : p.tag.key;
  return (
    <Layout title={`Tag ${label}`} user={p.user}>
      <h1 class="tag-page-title">Tag {label}</h1>
      <p class="muted">Datasets whose tag is equal to this one: same key, value and children, at every level (the order of children does not matter).</p>
      <TagTree node={p.tag} />
      <h2>
        {p.total.toLocaleString("en")} {p.total === 1 ? "dataset" : "datasets"}
      </h2>
      {p.alphabetical ? null : <p class="muted">Newest first.</p>}
      <ul class="tag-datasets">
        {p.items.map((d) => (
          <li>
            <a href={`/datasets/${d.id}`}>{d.title || d.path}</a> <span class="muted">{d.path}</span>
            {d.state === "missing" ? <span class="state-missing"> · missing</span> : null}
          </li>
        ))}
      </ul>
      <nav class="search-pager">
        {p.offset > 0 ? <a href={`/tags/${p.hash}?offset=${Math.max(0, p.offset - p.limit)}`}>← Previous</a> : null}
        {p.offset + p.limit < p.total ? <a href={`/tags/${p.hash}?offset=${p.offset + p.limit}`}>Next →</a> : null}
      </nav>
      <p>
        <a href={`/search?tag=${encodeURIComponent(`${p.tag.key}=${p.tag.value}`)}`}>Every dataset with {label}, whatever its children</a>
      </p>
    </Layout>
  );
}

/** A cloud entry that stands for several subtrees (or, for a key, several values): the user picks one. */
export function TagChoicePage(p: { target: Exclude<TagTarget, { kind: "hash" }>; user?: User }) {
  const t = p.target;
  const label = t.kind === "variants" ? (t.value ? `${t.key} = ${t.value}` : t.key) : t.key;
  return (
    <Layout title={`Tag ${label}`} user={p.user}>
      <h1>Tag {label}</h1>
      {t.kind === "variants" ? (
        <>
          <p class="muted">
            This tag appears with {t.variants.length} different sets of child tags; each is a different tag page.{" "}
            <a href={`/search?tag=${encodeURIComponent(`${t.key}=${t.value}`)}`}>All of them together</a>
          </p>
          <ul class="tag-variants">
            {t.variants.map((v) => (
              <li>
                <a href={`/tags/${v.hash}`}>
                  {v.count} {v.count === 1 ? "dataset" : "datasets"}
                </a>
                <TagTree node={v.tag} />
              </li>
            ))}
          </ul>
        </>
      ) : (
        <>
          <p class="muted">
            Values of this key. <a href={`/search?tag=${encodeURIComponent(`${t.key}:`)}`}>Every dataset with this key</a>
          </p>
          <p class="cloud">
            {t.values.map((v) => (
              <a class="cloud-tag" href={tagHref(t.key, v.value)}>
                {v.value === "" ? "(no value)" : v.value} <span class="muted">{v.count}</span>
              </a>
            ))}
          </p>
        </>
      )}
    </Layout>
  );
}
