import type { PreviewSummary, PreviewView } from "../../src/preview/preview.service.ts";
import { MeshViewer } from "../mesh/viewer.tsx";

function eta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `, about ${seconds} s left`;
  return `, about ${Math.round(seconds / 60)} min left`;
}

/** The versions of the previews a panel shows: the panel is drawn again only when they change. */
export function shownVersions(previews: PreviewView[]): string {
  return previews
    .filter((v) => v.state === "ready")
    .map((v) => `${v.n}:${v.version}`)
    .join(",");
}

/**
 * The progress line of a running build. It polls by itself, so the viewer above keeps its place while a coarse preview
 * sharpens: the answer is this line again, or the whole panel once the previews shown change or the build ends.
 */
export function PreviewProgress(p: { datasetId: number; summary: PreviewSummary; previews: PreviewView[] }) {
  const shown = shownVersions(p.previews);
  const query = new URLSearchParams({ status: "1", shown });
  return (
    <p class="muted preview-progress" hx-get={`/datasets/${p.datasetId}/previews/panel?${query}`} hx-trigger="every 2s" hx-swap="outerHTML">
      {p.summary.state === "queued" ? "Waiting for the copy to settle, then the preview is made. " : "Making the preview: "}
      <progress class="progress" max="1" value={String(p.summary.progress)}></progress> {Math.round(p.summary.progress * 100)}%{eta(p.summary.etaSeconds)}
      {p.previews.some((v) => v.state === "ready" && !v.complete) ? " Coarse levels shown; the full resolution follows." : ""}
    </p>
  );
}

/**
 * The dataset page's preview slot: progress (refreshed by htmx until done), the failure reason, or the slice
 * viewer over the ready previews (a chooser when the dataset has several volumes or images).
 */
export function PreviewPanel(p: { datasetId: number; summary: PreviewSummary; previews: PreviewView[] }) {
  const ready = p.previews.filter((v) => v.state === "ready" && v.tiles);
  const meshes = p.previews.filter((v) => v.state === "ready" && v.mesh);
  const busy = p.summary.state === "queued" || p.summary.state === "running";
  const first = ready[0];
  const hostId = `viewer-host-${p.datasetId}`;
  return (
    <section id="preview" class="panel preview-panel" data-preview-state={p.summary.state} aria-labelledby="preview-heading">
      <link rel="stylesheet" href="/static/viewer.css" />
      <h2 id="preview-heading">Preview</h2>
      {busy ? <PreviewProgress datasetId={p.datasetId} summary={p.summary} previews={p.previews} /> : null}
      {p.summary.state === "failed" ? <p class="error">Preview failed: {p.summary.error}</p> : null}
      {p.summary.state === "none" && ready.length === 0 && meshes.length === 0 ? (
        <p class="muted">No preview: no volume or image this version can show.</p>
      ) : null}
      {ready.length > 1 ? (
        <label>
          Show{" "}
          <select class="viewer-choose" data-target={hostId}>
            {ready.map((v) => (
              <option
                value={`/api/v1/datasets/${p.datasetId}/previews/${v.n}`}
                data-unit={v.unit}
                data-version={v.version}
                data-flat={v.size[2] === 1 ? "1" : "0"}
              >
                {v.file} ({v.size.join(" × ")})
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {first ? (
        <div id={hostId}>
          <div
            class="mata-viewer"
            data-base={`/api/v1/datasets/${p.datasetId}/previews/${first.n}`}
            data-unit={first.unit}
            data-version={first.version}
            data-flat={first.size[2] === 1 ? "1" : "0"}
            aria-label={`Slice viewer of ${first.file}: arrow keys move through slices, + and - zoom, f for fullscreen`}
          >
            <div class="viewer-toolbar"></div>
            <div class="viewer-panes"></div>
          </div>
          {first.notes.length > 0 ? <p class="muted">{first.notes.join("; ")}</p> : null}
        </div>
      ) : null}
      {meshes.map((v) => (
        <MeshViewer src={v.mesh!} name={v.file} />
      ))}
      <script type="module" src="/static/viewer.js"></script>
    </section>
  );
}
