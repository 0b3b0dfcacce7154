// The relation network of a dataset (templates/graph/graph.tsx), drawn with vis-network.
// Fixed layout seed: the same graph is drawn the same way every time.
import { eachPresent } from "./lib/dom.js";

/**
 * GET /api/v1/datasets/{id}/graph, as in src/graph/graph.service.ts.
 * @typedef {{ id: string; kind: "dataset"; datasetId: number; label: string; path: string; state: "present" | "missing"; role: string }} DatasetNode
 * @typedef {{ id: string; kind: "tag"; hash: string; key: string; value: string; label: string; datasets: number }} TagNode
 * @typedef {{ nodes: (DatasetNode | TagNode)[]; edges: { from: string; to: string; kind: "derived" | "tag" }[]; more: boolean; tags: { shown: boolean; truncated: boolean } }} Graph
 */
/** @typedef {import("vis-network/standalone").Node & { id: string; kind: "dataset" | "tag"; hash?: string; datasetId?: number }} VisNode */
/** @typedef {import("vis-network/standalone").Network} Network */

const COLORS = {
  self: { background: "#c62828", border: "#8e0000", highlight: { background: "#e53935", border: "#8e0000" } },
  dataset: { background: "#1f5fbf", border: "#123f82", highlight: { background: "#3b7be0", border: "#123f82" } },
  missing: { background: "#8a94a6", border: "#5b6474", highlight: { background: "#a3acbd", border: "#5b6474" } },
  tag: { background: "#fff3c4", border: "#b38f00", highlight: { background: "#ffe58a", border: "#8a6d00" } },
};

/** @param {Graph} g */
function toVis(g) {
  /** @type {VisNode[]} */
  const nodes = g.nodes.map((n) => {
    if (n.kind === "tag") {
      return {
        id: n.id,
        label: n.label,
        title: `${n.label} (${n.datasets}${n.datasets === 1 ? " dataset)" : " datasets)"}`,
        shape: "ellipse",
        color: COLORS.tag,
        font: { size: 12, color: "#4a3b00" },
        kind: "tag",
        hash: n.hash,
        mass: 1,
      };
    }
    const c = n.role === "self" ? COLORS.self : n.state === "missing" ? COLORS.missing : COLORS.dataset;
    return {
      id: n.id,
      label: n.label,
      title: `${n.path} (${n.role})`,
      shape: "box",
      color: c,
      font: { color: "#ffffff", size: n.role === "self" ? 16 : 14 },
      borderWidth: n.role === "self" ? 3 : 1,
      kind: "dataset",
      datasetId: n.datasetId,
      mass: 2,
    };
  });
  const edges = g.edges.map((e, i) =>
    e.kind === "derived"
      ? { id: "e" + i, from: e.from, to: e.to, arrows: "to", color: { color: "#4b5563" }, width: 2 }
      : { id: "e" + i, from: e.from, to: e.to, dashes: true, color: { color: "#c9b458" }, width: 1, length: 80 },
  );
  return { nodes, edges };
}

/**
 * Wires one `.relation-graph` section: loads its graph, draws it, and reloads for "show more" and the tags box.
 * @param {HTMLElement} root
 */
function init(root) {
  root.setAttribute("data-state", "loading");
  const id = root.getAttribute("data-graph-id") ?? "";
  const step = Number(root.getAttribute("data-graph-step")) || 150;
  let limit = step;
  const canvas = root.querySelector(".graph-canvas");
  const more = root.querySelector(".graph-more");
  const tagsBox = root.querySelector(".graph-tags");
  const status = root.querySelector(".graph-status");
  if (!(canvas instanceof HTMLElement && more instanceof HTMLElement && tagsBox instanceof HTMLInputElement && status)) return;
  /** @type {Network | null} */
  let network = null;

  const load = () => {
    root.setAttribute("data-state", "loading");
    root.removeAttribute("data-stable");
    status.textContent = "Loading…";
    const url = `/api/v1/datasets/${encodeURIComponent(id)}/graph?limit=${limit}&tags=${tagsBox.checked ? "1" : "0"}`;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) =>
        r.json().then((body) => {
          if (!r.ok) throw new Error(body?.error?.message || "The graph could not be loaded");
          return /** @type {Graph} */ (body);
        }),
      )
      .then(draw)
      .catch((e) => {
        root.setAttribute("data-state", "error");
        status.textContent = String(e?.message || e);
      });
  };

  /** @param {Graph} g */
  const draw = (g) => {
    const data = toVis(g);
    const datasets = g.nodes.filter((n) => n.kind === "dataset").length;
    const big = data.nodes.length > 400;
    /** @type {import("vis-network/standalone").Options} */
    const options = {
      layout: { randomSeed: 7, improvedLayout: !big },
      physics: {
        solver: "forceAtlas2Based",
        forceAtlas2Based: { gravitationalConstant: -60, springLength: 90 },
        minVelocity: 1.5,
        stabilization: { enabled: true, iterations: big ? 80 : 250, fit: true },
      },
      interaction: { hover: true, tooltipDelay: 150 },
      nodes: { margin: { top: 8, right: 8, bottom: 8, left: 8 } },
      // enabled and roundness are vis-network's defaults, spelt out because its types require them.
      edges: { smooth: big ? false : { enabled: true, type: "continuous", roundness: 0.5 } },
    };
    if (network) network.destroy();
    const net = new vis.Network(canvas, data, options);
    network = net;
    // The browser tests read the network from its section.
    /** @type {HTMLElement & { __network?: Network }} */ (root).__network = net;
    net.once("stabilizationIterationsDone", () => {
      // Big graphs stop moving once laid out, so the page stays responsive.
      if (big) net.setOptions({ physics: false });
    });
    net.once("afterDrawing", () => root.setAttribute("data-state", "drawn"));
    net.on("stabilized", () => root.setAttribute("data-stable", "1"));
    net.on("click", (/** @type {{ nodes: string[] }} */ p) => {
      const n = data.nodes.find((x) => x.id === p.nodes[0]);
      if (!n) return;
      if (n.kind === "dataset") window.location.href = "/datasets/" + n.datasetId;
      else if (n.hash) window.location.href = "/tags/" + n.hash;
    });
    net.on("hoverNode", () => (canvas.style.cursor = "pointer"));
    net.on("blurNode", () => (canvas.style.cursor = ""));
    status.textContent =
      datasets +
      (datasets === 1 ? " dataset" : " datasets") +
      (g.more ? ", more are related" : "") +
      (g.tags.truncated ? " (tags shown for the first ones only)" : "");
    more.hidden = !g.more;
    root.setAttribute("data-nodes", String(data.nodes.length));
  };

  more.addEventListener("click", () => {
    limit += step;
    load();
  });
  tagsBox.addEventListener("change", load);
  load();
}

/**
 * Resolves once the vis-network global exists. It is a classic script, so when htmx swaps a graph in, the script
 * the swap brings may still be loading as this module starts.
 * @returns {Promise<void>}
 */
function visReady() {
  if (typeof vis !== "undefined") return Promise.resolve();
  const script = document.querySelector('script[src$="/vis-network.min.js"]');
  return new Promise((resolve) => script?.addEventListener("load", () => resolve(), { once: true }));
}

eachPresent(".relation-graph", HTMLElement, (root) => {
  visReady().then(() => init(root));
});
