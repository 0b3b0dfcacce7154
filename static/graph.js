// The relation network of a dataset (templates/graph/graph.tsx), drawn with vis-network.
// Fixed layout seed: the same graph is drawn the same way every time.
(function () {
  "use strict";
  var COLORS = {
    self: { background: "#c62828", border: "#8e0000", highlight: { background: "#e53935", border: "#8e0000" } },
    dataset: { background: "#1f5fbf", border: "#123f82", highlight: { background: "#3b7be0", border: "#123f82" } },
    missing: { background: "#8a94a6", border: "#5b6474", highlight: { background: "#a3acbd", border: "#5b6474" } },
    tag: { background: "#fff3c4", border: "#b38f00", highlight: { background: "#ffe58a", border: "#8a6d00" } },
  };

  function toVis(g) {
    var nodes = g.nodes.map(function (n) {
      if (n.kind === "tag") {
        return { id: n.id, label: n.label, title: n.label + " (" + n.datasets + (n.datasets === 1 ? " dataset)" : " datasets)"),
          shape: "ellipse", color: COLORS.tag, font: { size: 12, color: "#4a3b00" }, kind: "tag", hash: n.hash, mass: 1 };
      }
      var c = n.role === "self" ? COLORS.self : n.state === "missing" ? COLORS.missing : COLORS.dataset;
      return { id: n.id, label: n.label, title: n.path + " (" + n.role + ")", shape: "box", color: c,
        font: { color: "#ffffff", size: n.role === "self" ? 16 : 14 }, borderWidth: n.role === "self" ? 3 : 1,
        kind: "dataset", datasetId: n.datasetId, mass: 2 };
    });
    var edges = g.edges.map(function (e, i) {
      return e.kind === "derived"
        ? { id: "e" + i, from: e.from, to: e.to, arrows: "to", color: { color: "#4b5563" }, width: 2 }
        : { id: "e" + i, from: e.from, to: e.to, dashes: true, color: { color: "#c9b458" }, width: 1, length: 80 };
    });
    return { nodes: nodes, edges: edges };
  }

  function init(root) {
    if (root.getAttribute("data-state")) return;
    root.setAttribute("data-state", "loading");
    var id = root.getAttribute("data-graph-id");
    var step = Number(root.getAttribute("data-graph-step")) || 150;
    var limit = step;
    var canvas = root.querySelector(".graph-canvas");
    var more = root.querySelector(".graph-more");
    var tagsBox = root.querySelector(".graph-tags");
    var status = root.querySelector(".graph-status");
    var network = null;

    function load() {
      root.setAttribute("data-state", "loading");
      root.removeAttribute("data-stable");
      status.textContent = "Loading…";
      var url = "/api/v1/datasets/" + encodeURIComponent(id) + "/graph?limit=" + limit + "&tags=" + (tagsBox.checked ? "1" : "0");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error((body && body.error && body.error.message) || "The graph could not be loaded");
            return body;
          });
        })
        .then(draw)
        .catch(function (e) {
          root.setAttribute("data-state", "error");
          status.textContent = String(e.message || e);
        });
    }

    function draw(g) {
      var data = toVis(g);
      var datasets = g.nodes.filter(function (n) { return n.kind === "dataset"; }).length;
      var big = data.nodes.length > 400;
      var options = {
        layout: { randomSeed: 7, improvedLayout: !big },
        physics: { solver: "forceAtlas2Based", forceAtlas2Based: { gravitationalConstant: -60, springLength: 90 },
          minVelocity: 1.5, stabilization: { enabled: true, iterations: big ? 80 : 250, fit: true } },
        interaction: { hover: true, tooltipDelay: 150 },
        nodes: { margin: 8 },
        edges: { smooth: big ? false : { type: "continuous" } },
      };
      if (network) network.destroy();
      network = new vis.Network(canvas, data, options);
      root.__network = network;
      network.once("stabilizationIterationsDone", function () {
        // Big graphs stop moving once laid out, so the page stays responsive.
        if (big) network.setOptions({ physics: false });
      });
      network.once("afterDrawing", function () { root.setAttribute("data-state", "drawn"); });
      network.on("stabilized", function () { root.setAttribute("data-stable", "1"); });
      network.on("click", function (p) {
        if (!p.nodes.length) return;
        var n = data.nodes.find(function (x) { return x.id === p.nodes[0]; });
        if (!n) return;
        if (n.kind === "dataset") window.location.href = "/datasets/" + n.datasetId;
        else if (n.hash) window.location.href = "/tags/" + n.hash;
      });
      network.on("hoverNode", function () { canvas.style.cursor = "pointer"; });
      network.on("blurNode", function () { canvas.style.cursor = ""; });
      status.textContent = datasets + (datasets === 1 ? " dataset" : " datasets") + (g.more ? ", more are related" : "") +
        (g.tags.truncated ? " (tags shown for the first ones only)" : "");
      more.hidden = !g.more;
      root.setAttribute("data-nodes", String(data.nodes.length));
    }

    more.addEventListener("click", function () {
      limit += step;
      load();
    });
    tagsBox.addEventListener("change", load);
    load();
  }

  function initAll() {
    if (typeof vis === "undefined") return;
    document.querySelectorAll(".relation-graph").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  window.addEventListener("load", initAll);
  document.addEventListener("htmx:load", initAll);
})();
