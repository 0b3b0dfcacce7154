import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { Flash } from "../../src/web/plain-form.ts";
import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { Relatives } from "../../src/relations/relations.service.ts";
import type { PreviewSummary, PreviewView } from "../../src/preview/preview.service.ts";
import { PreviewPanel } from "../preview/viewer.tsx";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { TagsPanel } from "../tags/panel.tsx";
import { DescribeForm, DescribeView } from "./describe.tsx";
import { RelationsPanel } from "./relations.tsx";
import { RelationGraph } from "../graph/graph.tsx";
import { displayTitle, formatBytes, formatCount, formatTime } from "./format.ts";
import type { FixityView } from "../../src/fixity/fixity.service.ts";
import { FixityFacts } from "../fixity/fixity.tsx";
import type { ExtractionView } from "../../src/extract/extract.service.ts";
import { ExtractionFacts } from "../extract/extraction.tsx";
import { ExportPanel } from "../export/panel.tsx";

/** Everything the dataset page shows. */
export interface DatasetPageProps {
  d: {
    id: number;
    path: string;
    title: string;
    description: string;
    owner: string | null;
    state: "present" | "missing";
    version: number;
    fileCount: number;
    byteCount: number;
    updatedAt: number;
    scanError: string | null;
  };
  tags: TagNode[];
  tagsVersion: number;
  relatives: Relatives;
  /** One keyset page of the files and the path cursors of the pages beside it (null: none that way). */
  files: { items: { path: string; size: number; mtime_ms: number }[]; next: string | null; prev: string | null };
  preview: { summary: PreviewSummary; previews: PreviewView[] };
  /** Whether the viewer may open content (owner, viewer, editor, admin): the tiles, not only the preview's state. */
  canRead: boolean;
  /** Whether the viewer may change this dataset's metadata (owner, editor, admin); otherwise no editing controls. */
  canEdit: boolean;
  user: Principal | null;
  csrf?: string;
  /** A message left by a plain form post (no JavaScript) that redirected here. */
  flash?: Flash;
  /**
   * Panels rendered in place of the defaults: an editor opened by a link (no JavaScript), or a refused form post's
   * panel with its message and the person's input.
   */
  panels?: { describe?: Child; tags?: Child; relations?: Child; sharing?: Child };
  /** Editors opened by a link (the no-JavaScript way to what htmx buttons fetch): title and description, a tag, a tag's child. */
  open?: { describe?: boolean; editTag?: string; addTag?: string };
  /** The sharing panel for browsers without JavaScript (the default one loads itself by htmx). */
  sharingNoScript?: Child;
  /** Checksums and content that changed under an unchanged size and time (for those who may read the dataset). */
  fixity?: FixityView | null;
  /** Personal data found in its files and failed metadata extractors (for those who may read the dataset). */
  extraction?: ExtractionView | null;
  /** Whether the viewer may read this dataset's audit log (its owner, admins). */
  canSeeHistory?: boolean;
}

/** What someone without read access sees of the preview: its state, never its tiles. */
function PreviewState(p: { summary: PreviewSummary; owner: string | null }) {
  const s = p.summary;
  const text =
    s.state === "ready"
      ? "A preview exists."
      : s.state === "running" || s.state === "queued"
        ? "A preview is being made."
        : s.state === "failed"
          ? "The preview failed."
          : "No preview yet.";
  return (
    <section id="preview" class="panel" data-preview-state={s.state} aria-labelledby="preview-heading">
      <h2 id="preview-heading">Preview</h2>
      <p class="muted">
        {text} Viewing it needs read access: ask the owner{p.owner ? ` (${p.owner})` : ""} to share this dataset with you.
      </p>
    </section>
  );
}

/** The URL of a file's content as an attachment; each path segment percent-encoded, the `/` between them kept. */
export function fileHref(datasetId: number, path: string): string {
  return `/api/v1/datasets/${datasetId}/files/${path.split("/").map(encodeURIComponent).join("/")}?download`;
}

/** One keyset page of the files: names link to the content for people who may read it, plain text for others. */
function FilesTable(p: { id: number; files: DatasetPageProps["files"]; total: number; canRead: boolean }) {
  const { items, next, prev } = p.files;
  const page = (q: Record<string, string>) => `/datasets/${p.id}?${new URLSearchParams(q)}#files-heading`;
  return (
    <section class="panel files-panel" aria-labelledby="files-heading">
      <h2 id="files-heading">
        Files <span class="muted count">{formatCount(p.total)}</span>
      </h2>
      {items.length === 0 ? (
        <p class="muted">No files{prev !== null ? " on this page" : ""}.</p>
      ) : (
        <div class="files-scroll" tabindex={0} role="region" aria-label="Files of this dataset">
          <table class="files">
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Modified (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {/* Rows by hono's escaping `html` template: much faster than JSX components for long listings. */}
              {items.map(
                (f) =>
                  html`<tr><td class="path">${p.canRead ? html`<a href="${fileHref(p.id, f.path)}" download>${f.path}</a>` : f.path}</td><td class="num" title="${formatCount(f.size)} bytes">${formatBytes(f.size)}</td><td><time datetime="${new Date(f.mtime_ms).toISOString()}">${formatTime(f.mtime_ms)}</time></td></tr>`,
              )}
            </tbody>
          </table>
        </div>
      )}
      {next !== null || prev !== null ? (
        <nav class="pager" aria-label="File pages">
          <span class="muted">
            {formatCount(items.length)} of {formatCount(p.total)}, by path
          </span>
          {prev !== null ? <a href={page({})}>First files</a> : null}
          {prev !== null ? (
            <a href={page({ before: prev })} rel="prev">
              ← Previous files
            </a>
          ) : null}
          {next !== null ? (
            <a href={page({ after: next })} rel="next">
              Next files →
            </a>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}

/** The dataset page: description, tags editor, preview slot, files, relatives. */
export function DatasetPage(p: DatasetPageProps) {
  const d = p.d;
  return (
    <Layout title={displayTitle(d)} user={p.user} csrf={p.csrf}>
      <link rel="stylesheet" href="/static/datasets.css" />
      <script type="module" src="/static/tags.js"></script>
      <div id="flash" role="alert" class="flash" hidden></div>
      {p.flash ? (
        <p class={`${p.flash.kind === "error" ? "error" : "notice"} page-flash`} role={p.flash.kind === "error" ? "alert" : "status"}>
          {p.flash.text}
        </p>
      ) : null}
      <div class="dataset-page" data-dataset-id={String(d.id)}>
        <div class="dataset-main">
          {p.panels?.describe ??
            (p.open?.describe && p.canEdit ? (
              <DescribeForm id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} csrf={p.csrf} />
            ) : (
              <DescribeView id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} canEdit={p.canEdit} />
            ))}
          <dl class="facts">
            <dt>Owner</dt>
            <dd>{d.owner ?? "unknown"}</dd>
            <dt>Size</dt>
            <dd>
              {formatBytes(d.byteCount)} in {formatCount(d.fileCount)} file{d.fileCount === 1 ? "" : "s"}
            </dd>
            <dt>State</dt>
            <dd class={d.state === "missing" ? "state-missing" : undefined}>{d.state}</dd>
            <dt>Updated</dt>
            <dd>{formatTime(d.updatedAt)} UTC</dd>
            {p.fixity ? <FixityFacts fixity={p.fixity} /> : null}
            {p.extraction ? <ExtractionFacts extraction={p.extraction} /> : null}
            {p.canSeeHistory ? (
              <>
                <dt>History</dt>
                <dd>
                  <a href={`/audit?dataset=${d.id}`}>Audit log</a>: who changed, shared and downloaded what
                </dd>
              </>
            ) : null}
            {d.scanError ? (
              <>
                <dt>Scan problem</dt>
                <dd class="error">{d.scanError}</dd>
              </>
            ) : null}
          </dl>
          {p.canRead ? (
            <PreviewPanel datasetId={d.id} summary={p.preview.summary} previews={p.preview.previews} />
          ) : (
            <PreviewState summary={p.preview.summary} owner={d.owner} />
          )}
          <section class="panel" aria-labelledby="graph-heading">
            <h2 id="graph-heading">Relation network</h2>
            <RelationGraph datasetId={d.id} height="380px" />
          </section>
          <FilesTable id={d.id} files={p.files} total={d.fileCount} canRead={p.canRead} />
        </div>
        <div class="dataset-side">
          {p.panels?.tags ?? (
            <TagsPanel
              datasetId={d.id}
              tags={p.tags}
              tagsVersion={p.tagsVersion}
              hasParents={p.relatives.parents.length > 0}
              canEdit={p.canEdit}
              csrf={p.csrf}
              editing={p.open?.editTag}
              addUnder={p.open?.addTag}
              focus={p.open?.addTag !== undefined ? "add-key" : undefined}
            />
          )}
          {p.panels?.relations ?? <RelationsPanel datasetId={d.id} relatives={p.relatives} canEdit={p.canEdit} csrf={p.csrf} />}
          {p.canEdit && d.state === "present" && p.preview.previews.some((v) => v.kind === "volume") ? <ExportPanel datasetId={d.id} csrf={p.csrf} /> : null}
          {/* The sharing panel loads itself, so only the access feature decides what it shows to whom. */}
          {p.panels?.sharing ? (
            <div class="panel">{p.panels.sharing}</div>
          ) : (
            <div hx-get={`/datasets/${d.id}/sharing`} hx-trigger="load" hx-swap="innerHTML" class="panel">
              <span class="needs-js">Loading sharing…</span>
              {p.sharingNoScript ? <noscript>{p.sharingNoScript}</noscript> : null}
            </div>
          )}
        </div>
      </div>
    </Layout>
  );
}
