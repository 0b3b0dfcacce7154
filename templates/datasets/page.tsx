import { html } from "hono/html";
import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { Relatives } from "../../src/relations/relations.service.ts";
import type { PreviewJobs } from "../../src/pages/pages.repo.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { TagsPanel } from "../tags/panel.tsx";
import { DescribeView } from "./describe.tsx";
import { RelationsPanel } from "./relations.tsx";
import { RelationGraph } from "../graph/graph.tsx";
import { displayTitle, formatBytes, formatCount, formatTime } from "./format.ts";

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
  files: { path: string; size: number; mtime_ms: number }[];
  filesOffset: number;
  filesLimit: number;
  preview: PreviewJobs;
  /** Whether the viewer may change this dataset's metadata (owner, editor, admin); otherwise no editing controls. */
  canEdit: boolean;
  user: Principal | null;
  csrf?: string;
}

/**
 * The preview slot: states what the preview jobs say, honestly ("No preview yet" when there are none). The
 * tiler's viewer partial replaces the body of this element once wired in by the lead.
 */
export function PreviewSlot(p: { datasetId: number; preview: PreviewJobs; state: "present" | "missing" }) {
  const j = p.preview;
  let text: string;
  let status: string;
  if (p.state === "missing") [status, text] = ["missing", "The folder is missing from the share, so no preview can be made."];
  else if (j.running || j.queued) [status, text] = ["running", `Preview being made: ${Math.round(j.progress * 100)}% (${j.running} running, ${j.queued} waiting).`];
  else if (j.failed) [status, text] = ["failed", `Preview failed: ${j.error ?? "see the job log"}.`];
  else if (j.done) [status, text] = ["ready", "Preview made:"];
  else [status, text] = ["none", "No preview yet."];
  return (
    <section id="preview" class="panel preview-slot" data-preview-state={status} aria-labelledby="preview-heading">
      <h2 id="preview-heading">Preview</h2>
      <p class={status === "failed" ? "error" : "muted"}>
        {text} {status === "ready" ? <a href={`/datasets/${p.datasetId}/viewer`}>open the viewer</a> : null}
      </p>
    </section>
  );
}

function FilesTable(p: { id: number; files: DatasetPageProps["files"]; total: number; offset: number; limit: number }) {
  const { offset, limit, total } = p;
  return (
    <section class="panel files-panel" aria-labelledby="files-heading">
      <h2 id="files-heading">
        Files <span class="muted count">{formatCount(total)}</span>
      </h2>
      {p.files.length === 0 ? (
        <p class="muted">No files.</p>
      ) : (
        <div class="files-scroll" tabindex={0} role="region" aria-label="Files of this dataset">
        <table class="files">
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Modified (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {/* Rows by hono's escaping `html` template: much faster than JSX components for long listings. */}
            {p.files.map(
              (f) =>
                html`<tr><td class="path">${f.path}</td><td class="num" title="${formatCount(f.size)} bytes">${formatBytes(f.size)}</td><td><time datetime="${new Date(f.mtime_ms).toISOString()}">${formatTime(f.mtime_ms)}</time></td></tr>`,
            )}
          </tbody>
        </table>
        </div>
      )}
      {total > limit ? (
        <nav class="pager" aria-label="File pages">
          <span class="muted">
            {formatCount(offset + 1)}–{formatCount(Math.min(offset + limit, total))} of {formatCount(total)}
          </span>
          {offset > 0 ? <a href={`/datasets/${p.id}?files=${Math.max(0, offset - limit)}#files-heading`}>← Previous files</a> : null}
          {offset + limit < total ? <a href={`/datasets/${p.id}?files=${offset + limit}#files-heading`}>Next files →</a> : null}
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
      <script src="/static/tags.js" defer></script>
      <div id="flash" role="alert" class="flash" hidden></div>
      <div class="dataset-page" data-dataset-id={String(d.id)}>
        <div class="dataset-main">
          <DescribeView id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} canEdit={p.canEdit} />
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
            {d.scanError ? (
              <>
                <dt>Scan problem</dt>
                <dd class="error">{d.scanError}</dd>
              </>
            ) : null}
          </dl>
          <PreviewSlot datasetId={d.id} preview={p.preview} state={d.state} />
          <section class="panel" aria-labelledby="graph-heading">
            <h2 id="graph-heading">Relation network</h2>
            <RelationGraph datasetId={d.id} height="380px" />
          </section>
          <FilesTable id={d.id} files={p.files} total={d.fileCount} offset={p.filesOffset} limit={p.filesLimit} />
        </div>
        <div class="dataset-side">
          <TagsPanel datasetId={d.id} tags={p.tags} tagsVersion={p.tagsVersion} hasParents={p.relatives.parents.length > 0} canEdit={p.canEdit} />
          <RelationsPanel datasetId={d.id} relatives={p.relatives} canEdit={p.canEdit} />
          {/* The sharing panel loads itself, so only the access feature decides what it shows to whom. */}
          <div hx-get={`/datasets/${d.id}/sharing`} hx-trigger="load" hx-swap="innerHTML" class="panel">
            Loading sharing…
          </div>
        </div>
      </div>
    </Layout>
  );
}
