import { Layout } from "../layout.tsx";

/**
 * The relation network of one dataset, drawn by /static/graph.js with vis-network: include it in the dataset page
 * as `<RelationGraph datasetId={id} />`. It loads its own scripts and styles, so it also works when swapped in by htmx.
 */
export function RelationGraph(p: { datasetId: number; height?: string; tags?: boolean; step?: number }) {
  return (
    <section class="relation-graph" data-graph-id={String(p.datasetId)} data-graph-step={String(p.step ?? 150)} aria-label="Related datasets">
      <link rel="stylesheet" href="/static/graph.css" />
      <div class="graph-toolbar">
        <label>
          <input type="checkbox" class="graph-tags" checked={p.tags ?? true} /> Show shared tags
        </label>
        <button type="button" class="graph-more" hidden>
          Show more
        </button>
        <span class="graph-status muted" role="status"></span>
        <span class="graph-legend muted">
          <span class="graph-key graph-key-self"></span> this dataset <span class="graph-key graph-key-ds"></span> related{" "}
          <span class="graph-key graph-key-tag"></span> tag · arrows point from a dataset to what was derived from it
        </span>
      </div>
      <div class="graph-canvas" style={`height:${p.height ?? "460px"}`}></div>
      <script src="/static/vendor/vis-network.min.js" defer></script>
      <script type="module" src="/static/graph.js"></script>
    </section>
  );
}

/** A page with just the network, full size. */
export function GraphPage(p: { datasetId: number; title: string; user?: { name: string; isAdmin: boolean } | null }) {
  return (
    <Layout title={`Related to ${p.title}`} user={p.user}>
      <h1>
        Related to <a href={`/datasets/${p.datasetId}`}>{p.title}</a>
      </h1>
      <RelationGraph datasetId={p.datasetId} height="72vh" />
    </Layout>
  );
}
