import type { AppContext } from "../context.ts";
import { notFound } from "../errors.ts";
import { graphRepo } from "./graph.repo.ts";

/** Datasets shown at first; "show more" asks for this many more each time. */
export const GRAPH_STEP = 150;
/** The most datasets one graph request may return. */
export const GRAPH_MAX = 10_000;
/** The tag overlay is drawn for at most this many tag rows, so a big graph stays drawable. */
export const TAG_ROWS_MAX = 3_000;

/** How a dataset node relates to the one the graph is about. */
export type Role = "self" | "ancestor" | "descendant" | "relative";

/** A node: a dataset, or (overlay) a tag subtree shared by every dataset carrying an equal one. */
export type GraphNode =
  | { id: string; kind: "dataset"; datasetId: number; label: string; path: string; state: "present" | "missing"; role: Role }
  | { id: string; kind: "tag"; hash: string; key: string; value: string; label: string; datasets: number };

/** An edge: parent -> child for a derivation, dataset -> tag or tag -> child tag for the overlay. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: "derived" | "tag";
}

/** The relation network around one dataset, bounded; `more` says a bigger limit would show more datasets. */
export interface Graph {
  id: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  limit: number;
  more: boolean;
  tags: { shown: boolean; truncated: boolean };
}

const dsNode = (id: number) => `d${id}`;

/**
 * Every ancestor and descendant first, then their other relatives breadth-first, up to `limit` datasets; with
 * `tags`, equal tag subtrees (by subtree_hash) become one shared node linked to every dataset carrying them, and
 * a subtree's children are linked to it, so near-equal subtrees share children and settle close together.
 */
export function relationGraph(ctx: AppContext, id: number, opts: { limit: number; tags: boolean }): Graph {
  const repo = graphRepo(ctx.db);
  if (!repo.exists(id)) throw notFound(`No dataset ${id}`);
  const limit = Math.max(1, Math.min(GRAPH_MAX, opts.limit));

  const up = repo.ancestors(id, limit);
  const down = repo.descendants(id, Math.max(1, limit - up.length + 1));
  const lineage = [...new Set([...up, ...down])].slice(0, limit);
  const all = repo.related(lineage, limit + 1);
  // The walk covers the whole connected component, so one extra row tells whether anything was left out.
  const more = all.length > limit;
  const ids = all.slice(0, limit);

  const ancestors = new Set(up);
  const descendants = new Set(down);
  const rows = new Map(repo.datasets(ids).map((d) => [d.id, d]));
  const nodes: GraphNode[] = [];
  for (const did of ids) {
    const d = rows.get(did);
    if (!d) continue;
    const role: Role = did === id ? "self" : ancestors.has(did) ? "ancestor" : descendants.has(did) ? "descendant" : "relative";
    nodes.push({ id: dsNode(did), kind: "dataset", datasetId: did, label: d.title || d.path, path: d.path, state: d.state, role });
  }
  const edges: GraphEdge[] = repo.edges(ids).map((e) => ({ from: dsNode(e.parent_id), to: dsNode(e.child_id), kind: "derived" }));

  const tags = { shown: false, truncated: false };
  if (opts.tags) {
    const tagRows = repo.tags(ids, TAG_ROWS_MAX + 1);
    tags.shown = true;
    tags.truncated = tagRows.length > TAG_ROWS_MAX;
    addTagOverlay(tagRows.slice(0, TAG_ROWS_MAX), nodes, edges);
  }
  return { id, nodes, edges, limit, more, tags };
}

function addTagOverlay(
  rows: { id: number; parent_id: number | null; dataset_id: number; key: string; value: string; subtree_hash: string }[],
  nodes: GraphNode[],
  edges: GraphEdge[],
): void {
  // A row without a hash (not yet computed) is only equal to itself.
  const nodeOf = new Map<number, string>();
  const tagNodes = new Map<string, Extract<GraphNode, { kind: "tag" }> & { carriers: Set<number> }>();
  for (const r of rows) {
    const nid = r.subtree_hash ? `t${r.subtree_hash.slice(0, 20)}` : `r${r.id}`;
    nodeOf.set(r.id, nid);
    let n = tagNodes.get(nid);
    if (!n) {
      n = {
        id: nid,
        kind: "tag",
        hash: r.subtree_hash,
        key: r.key,
        value: r.value,
        label: r.value ? `${r.key} = ${r.value}` : r.key,
        datasets: 0,
        carriers: new Set(),
      };
      tagNodes.set(nid, n);
    }
    n.carriers.add(r.dataset_id);
  }
  const seen = new Set<string>();
  const link = (from: string, to: string) => {
    const k = `${from}>${to}`;
    if (seen.has(k) || from === to) return;
    seen.add(k);
    edges.push({ from, to, kind: "tag" });
  };
  for (const r of rows) {
    const nid = nodeOf.get(r.id)!;
    if (r.parent_id === null) link(dsNode(r.dataset_id), nid);
    else {
      const parent = nodeOf.get(r.parent_id);
      if (parent) link(parent, nid);
    }
  }
  for (const { carriers, ...n } of tagNodes.values()) nodes.push({ ...n, datasets: carriers.size });
}
