import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import { displayTitle, formatBytes, formatCount, formatTime } from "./format.ts";

/** One row of the dataset list. */
export interface ListItem {
  id: number;
  path: string;
  title: string;
  owner: string | null;
  state: "present" | "missing";
  fileCount: number;
  byteCount: number;
  updatedAt: number;
  /** Shown only to people who may read the dataset's content. */
  thumbnail?: string;
  /** The kind of its first preview, named in the slot when no thumbnail is shown. */
  previewKind?: "volume" | "image" | "mesh";
}

const KIND_LABELS = { volume: "Volume", image: "Image", mesh: "3D mesh" } as const;

/** The thumbnail slot: the picture (a mesh's drawn by the server), or words saying what the preview is (not ready yet) or that there is none. */
function ThumbSlot(p: { d: ListItem }) {
  const { d } = p;
  if (d.thumbnail)
    return (
      <span class="thumb-slot" id={`thumb-${d.id}`} data-dataset-id={String(d.id)} aria-hidden="true">
        <img src={d.thumbnail} alt="" loading="lazy" width="48" height="36" />
      </span>
    );
  return (
    <span class="thumb-slot thumb-label" id={`thumb-${d.id}`} data-dataset-id={String(d.id)}>
      {d.previewKind ? KIND_LABELS[d.previewKind] : "No preview"}
    </span>
  );
}

/** What the list page needs: one keyset page and the links around it. */
export interface ListPageProps {
  items: ListItem[];
  total: number;
  sort: string;
  desc: boolean;
  limit: number;
  nextHref: string | null;
  prevHref: string | null;
  firstHref: string;
  sortHref: (sort: string) => string;
  user: Principal | null;
  csrf?: string;
}

const COLUMNS: { sort: string; label: string; num?: boolean }[] = [
  { sort: "title", label: "Title" },
  { sort: "path", label: "Path" },
  { sort: "owner", label: "Owner" },
  { sort: "size", label: "Size", num: true },
  { sort: "files", label: "Files", num: true },
  { sort: "updated", label: "Updated" },
];

/** The dataset list: sortable columns, keyset paging, a thumbnail slot per row. */
export function DatasetListPage(p: ListPageProps) {
  return (
    <Layout title="Datasets" user={p.user} csrf={p.csrf}>
      <link rel="stylesheet" href="/static/datasets.css" />
      <section class="dataset-list">
        <h1>
          Datasets <span class="muted count">{formatCount(p.total)}</span>
        </h1>
        {p.items.length === 0 ? (
          <p class="empty">No datasets yet. Copy a folder into the share and it appears here after the next scan.</p>
        ) : (
          <table>
            <caption class="visually-hidden">
              Datasets, sorted by {p.sort} {p.desc ? "descending" : "ascending"}
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <span class="visually-hidden">Thumbnail</span>
                </th>
                {COLUMNS.map((c) => (
                  <th scope="col" class={c.num ? "num" : undefined} aria-sort={p.sort === c.sort ? (p.desc ? "descending" : "ascending") : undefined}>
                    <a href={p.sortHref(c.sort)}>
                      {c.label}
                      {p.sort === c.sort ? <span aria-hidden="true">{p.desc ? " ▼" : " ▲"}</span> : null}
                    </a>
                  </th>
                ))}
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {p.items.map((d) => (
                <tr class={d.state === "missing" ? "state-missing" : undefined}>
                  <td class="thumb-cell">
                    <ThumbSlot d={d} />
                  </td>
                  <td>
                    <a href={`/datasets/${d.id}`}>{displayTitle(d)}</a>
                  </td>
                  <td class="path">{d.path}</td>
                  <td>{d.owner ?? <span class="muted">unknown</span>}</td>
                  <td class="num">{formatBytes(d.byteCount)}</td>
                  <td class="num">{formatCount(d.fileCount)}</td>
                  <td>
                    <time datetime={new Date(d.updatedAt).toISOString()}>{formatTime(d.updatedAt)}</time>
                  </td>
                  <td>{d.state}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <nav class="pager" aria-label="Pages">
          <a href={p.firstHref}>First</a>
          {p.prevHref ? (
            <a href={p.prevHref} rel="prev">
              ← Previous
            </a>
          ) : (
            <span class="muted">← Previous</span>
          )}
          {p.nextHref ? (
            <a href={p.nextHref} rel="next">
              Next →
            </a>
          ) : (
            <span class="muted">Next →</span>
          )}
        </nav>
      </section>
    </Layout>
  );
}
