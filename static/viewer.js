// Mata slice viewer: three synchronized panes (XY, XZ, YZ) over a Neuroglancer "precomputed" pyramid of
// JPEG tiles. Plain JS on canvas, no dependencies. Each pane draws the plane through a shared cursor at the
// coarsest level that still gives at least one tile pixel per screen pixel, so a view costs about 20 tiles.
(function () {
  "use strict";
  // htmx may run this script again with each swapped panel: one set of listeners is enough.
  if (window.MataViewer) {
    window.MataViewer.init();
    return;
  }
  var TILE = 256;
  var CACHE_MAX = 600;
  var PANES = [
    // h/v: which volume axis runs across and down; n: the axis the pane slices through.
    { name: "XY", h: 0, v: 1, n: 2 },
    { name: "XZ", h: 0, v: 2, n: 1 },
    { name: "YZ", h: 1, v: 2, n: 0 },
  ];

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  function clamp(v, lo, hi) { return v < lo ? lo : v > hi ? hi : v; }

  /** A nice round length (1, 2 or 5 times a power of ten) no longer than max. */
  function niceLength(max) {
    var p = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [5, 2, 1];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p <= max) return steps[i] * p;
    return p;
  }

  /** Formats a length given in nanometres in the unit that reads best; voxel units stay "px". */
  function formatLength(nm, unit) {
    if (unit === "px") return Math.round(nm) + " px";
    if (nm >= 1e7) return +(nm / 1e7).toPrecision(3) + " cm";
    if (nm >= 1e6) return +(nm / 1e6).toPrecision(3) + " mm";
    if (nm >= 1e3) return +(nm / 1e3).toPrecision(3) + " \u00b5m";
    return +nm.toPrecision(3) + " nm";
  }

  function Viewer(root) {
    this.root = root;
    this.base = root.getAttribute("data-base");
    // Tiles are cached for a year, so their URLs carry the content version: new content, new URLs.
    this.version = root.getAttribute("data-version") ? "?v=" + root.getAttribute("data-version") : "";
    this.unit = root.getAttribute("data-unit") || "px";
    this.cache = new Map();
    this.requests = 0;
    this.brightness = 1;
    this.contrast = 1;
    this.active = 0;
    this.drawQueued = false;
    var self = this;
    fetch(this.base + "/tiles/info", { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("preview info: HTTP " + r.status);
        return r.json();
      })
      .then(function (info) { self.start(info); })
      .catch(function (e) {
        root.textContent = "The preview could not be loaded: " + e.message;
        root.setAttribute("data-state", "error");
      });
  }

  Viewer.prototype.start = function (info) {
    var self = this;
    this.scales = info.scales;
    this.size = info.scales[0].size;
    this.res = info.scales[0].resolution;
    this.flat = this.size[2] === 1;
    this.cursor = [Math.floor(this.size[0] / 2), Math.floor(this.size[1] / 2), Math.floor(this.size[2] / 2)];
    this.panes = (this.flat ? PANES.slice(0, 1) : PANES).map(function (p) { return self.makePane(p); });
    this.makeToolbar();
    this.root.setAttribute("data-state", "ready");
    this.root.tabIndex = 0;
    this.root.addEventListener("keydown", function (e) { self.onKey(e); });
    new ResizeObserver(function () { self.fit(); }).observe(this.root);
    document.addEventListener("fullscreenchange", function () { self.fit(); });
    this.fit();
  };

  Viewer.prototype.makePane = function (spec) {
    var self = this;
    var canvas = el("canvas", { class: "viewer-canvas", "aria-label": spec.name + " slice" });
    var slider = el("input", { type: "range", min: "0", max: String(this.size[spec.n] - 1), value: String(this.cursor[spec.n]), "aria-label": spec.name + " slice position" });
    var label = el("span", { class: "viewer-pane-label" });
    var box = el("div", { class: "viewer-pane", "data-pane": spec.name }, [canvas, el("div", { class: "viewer-pane-bar" }, [label, this.flat ? el("span") : slider])]);
    this.root.querySelector(".viewer-panes").appendChild(box);
    var pane = { spec: spec, canvas: canvas, slider: slider, label: label, box: box, center: null, drag: null, shown: {} };
    slider.addEventListener("input", function () {
      self.cursor[spec.n] = Number(slider.value);
      self.draw();
    });
    canvas.addEventListener("pointerdown", function (e) {
      self.active = self.panes.indexOf(pane);
      canvas.setPointerCapture(e.pointerId);
      pane.drag = { x: e.clientX, y: e.clientY, cx: pane.center[0], cy: pane.center[1], moved: false };
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!pane.drag) return;
      var dx = e.clientX - pane.drag.x;
      var dy = e.clientY - pane.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) pane.drag.moved = true;
      if (!pane.drag.moved) return;
      pane.center = [pane.drag.cx - dx / self.zoom, pane.drag.cy - dy / self.zoom];
      self.draw();
    });
    canvas.addEventListener("pointerup", function (e) {
      var d = pane.drag;
      pane.drag = null;
      if (d && !d.moved) self.pick(pane, e);
    });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      self.active = self.panes.indexOf(pane);
      if (e.ctrlKey || e.metaKey || self.flat) self.zoomBy(e.deltaY < 0 ? 1.25 : 0.8);
      else self.step(pane, e.deltaY > 0 ? 1 : -1);
    }, { passive: false });
    return pane;
  };

  Viewer.prototype.makeToolbar = function () {
    var self = this;
    var bar = this.root.querySelector(".viewer-toolbar");
    function button(text, title, fn) {
      var b = el("button", { type: "button", title: title, text: text });
      b.addEventListener("click", fn);
      bar.appendChild(b);
      return b;
    }
    function range(label, min, max, value, fn) {
      var input = el("input", { type: "range", min: String(min), max: String(max), step: "0.05", value: String(value), "aria-label": label });
      input.addEventListener("input", function () { fn(Number(input.value)); self.draw(); });
      bar.appendChild(el("label", {}, [document.createTextNode(label + " "), input]));
      return input;
    }
    button("\u2212", "Zoom out (-)", function () { self.zoomBy(0.8); });
    button("+", "Zoom in (+)", function () { self.zoomBy(1.25); });
    button("1:1", "Full resolution (1)", function () { self.fullResolution(); });
    button("Reset", "Fit and centre (r)", function () { self.reset(); });
    this.bInput = range("Brightness", 0.2, 3, 1, function (v) { self.brightness = v; });
    this.cInput = range("Contrast", 0.2, 4, 1, function (v) { self.contrast = v; });
    button("Fullscreen", "Fullscreen (f)", function () { self.fullscreen(); });
    this.readout = el("span", { class: "viewer-readout" });
    bar.appendChild(this.readout);
  };

  /** Physical extent of a pane's axes (nm). */
  Viewer.prototype.extent = function (spec) {
    return [this.size[spec.h] * this.res[spec.h], this.size[spec.v] * this.res[spec.v]];
  };

  Viewer.prototype.fit = function () {
    var self = this;
    if (!this.panes) return;
    var dpr = window.devicePixelRatio || 1;
    this.panes.forEach(function (p) {
      var r = p.canvas.getBoundingClientRect();
      p.w = Math.max(1, Math.round(r.width));
      p.h = Math.max(1, Math.round(r.height));
      p.canvas.width = Math.round(p.w * dpr);
      p.canvas.height = Math.round(p.h * dpr);
    });
    if (!this.zoom) this.reset();
    else this.draw();
  };

  Viewer.prototype.reset = function () {
    var self = this;
    var z = Infinity;
    this.panes.forEach(function (p) {
      var e = self.extent(p.spec);
      z = Math.min(z, p.w / e[0], p.h / e[1]);
      p.center = [e[0] / 2, e[1] / 2];
    });
    this.zoom = z * 0.95;
    this.minZoom = this.zoom / 4;
    this.draw();
  };

  Viewer.prototype.zoomBy = function (f) {
    var maxZoom = 16 / Math.min(this.res[0], this.res[1], this.res[2]);
    this.zoom = clamp(this.zoom * f, this.minZoom, maxZoom);
    this.draw();
  };

  /** One screen pixel per full-resolution voxel, centred on the cursor. */
  Viewer.prototype.fullResolution = function () {
    var self = this;
    this.zoom = 1 / Math.min(this.res[0], this.res[1]);
    this.panes.forEach(function (p) { p.center = [(self.cursor[p.spec.h] + 0.5) * self.res[p.spec.h], (self.cursor[p.spec.v] + 0.5) * self.res[p.spec.v]]; });
    this.draw();
  };

  Viewer.prototype.fullscreen = function () {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (this.root.requestFullscreen) this.root.requestFullscreen();
  };

  Viewer.prototype.step = function (pane, d) {
    var n = pane.spec.n;
    this.cursor[n] = clamp(this.cursor[n] + d, 0, this.size[n] - 1);
    this.draw();
  };

  /** A click moves the cursor to the clicked voxel, so the other two panes show the planes through it. */
  Viewer.prototype.pick = function (pane, e) {
    var r = pane.canvas.getBoundingClientRect();
    var s = pane.spec;
    var px = pane.center[0] + (e.clientX - r.left - pane.w / 2) / this.zoom;
    var py = pane.center[1] + (e.clientY - r.top - pane.h / 2) / this.zoom;
    this.cursor[s.h] = clamp(Math.floor(px / this.res[s.h]), 0, this.size[s.h] - 1);
    this.cursor[s.v] = clamp(Math.floor(py / this.res[s.v]), 0, this.size[s.v] - 1);
    this.draw();
  };

  Viewer.prototype.onKey = function (e) {
    var pane = this.panes[this.active] || this.panes[0];
    var k = e.key;
    if (k === "ArrowUp" || k === "PageUp") this.step(pane, k === "PageUp" ? -10 : -1);
    else if (k === "ArrowDown" || k === "PageDown") this.step(pane, k === "PageDown" ? 10 : 1);
    else if (k === "ArrowLeft") this.active = (this.active + this.panes.length - 1) % this.panes.length;
    else if (k === "ArrowRight") this.active = (this.active + 1) % this.panes.length;
    else if (k === "+" || k === "=") this.zoomBy(1.25);
    else if (k === "-") this.zoomBy(0.8);
    else if (k === "1") this.fullResolution();
    else if (k === "r") this.reset();
    else if (k === "f") this.fullscreen();
    else if (k === "b" || k === "B") { this.brightness = clamp(this.brightness + (k === "b" ? 0.1 : -0.1), 0.2, 3); this.bInput.value = String(this.brightness); }
    else if (k === "c" || k === "C") { this.contrast = clamp(this.contrast + (k === "c" ? 0.1 : -0.1), 0.2, 4); this.cInput.value = String(this.contrast); }
    else return;
    e.preventDefault();
    this.draw();
  };

  Viewer.prototype.draw = function () {
    var self = this;
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(function () {
      self.drawQueued = false;
      self.render();
    });
  };

  /**
   * The coarsest level whose voxels are at most ~1.4 screen pixels in this pane: tiles then cover 180-360
   * screen pixels, so a pane needs 4-12 of them at any zoom (about 20 for the three panes).
   */
  Viewer.prototype.levelFor = function (spec) {
    var best = 0;
    for (var l = 0; l < this.scales.length; l++) {
      var r = this.scales[l].resolution;
      if (Math.min(r[spec.h], r[spec.v]) * this.zoom <= 1.415 || l === 0) best = l;
    }
    return best;
  };

  Viewer.prototype.tile = function (url) {
    var self = this;
    var hit = this.cache.get(url);
    if (hit) {
      this.cache.delete(url);
      this.cache.set(url, hit);
      return hit.ready ? hit.img : null;
    }
    var entry = { img: new Image(), ready: false };
    entry.img.onload = function () { entry.ready = true; self.draw(); };
    entry.img.onerror = function () { entry.failed = true; };
    entry.img.src = url;
    this.requests++;
    this.cache.set(url, entry);
    while (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value);
    return null;
  };

  Viewer.prototype.render = function () {
    var self = this;
    var c = this.cursor;
    this.panes.forEach(function (p, i) { self.renderPane(p, i === self.active); });
    this.root.setAttribute("data-cursor", c.join(","));
    this.root.setAttribute("data-requests", String(this.requests));
    var phys = c.map(function (v, i) { return formatLength((v + 0.5) * self.res[i], self.unit); });
    this.readout.textContent = "x " + c[0] + "  y " + c[1] + "  z " + c[2] + "  (" + phys.join(", ") + ")";
  };

  Viewer.prototype.renderPane = function (p, active) {
    var s = p.spec;
    var g = p.canvas.getContext("2d");
    var dpr = p.canvas.width / p.w;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#000";
    g.fillRect(0, 0, p.w, p.h);
    var L = this.levelFor(s);
    var sc = this.scales[L];
    var size = sc.size;
    var r = sc.resolution;
    // The slice through the cursor at this level.
    var n = Math.min(size[s.n] - 1, Math.floor(((this.cursor[s.n] + 0.5) * this.res[s.n]) / r[s.n]));
    var z = this.zoom;
    var left = p.center[0] - p.w / 2 / z;
    var top = p.center[1] - p.h / 2 / z;
    var hTile = TILE;
    var vTile = TILE;
    var h0 = clamp(Math.floor(left / r[s.h] / hTile), 0, Math.ceil(size[s.h] / hTile) - 1);
    var h1 = clamp(Math.floor((left + p.w / z) / r[s.h] / hTile), 0, Math.ceil(size[s.h] / hTile) - 1);
    var v0 = clamp(Math.floor(top / r[s.v] / vTile), 0, Math.ceil(size[s.v] / vTile) - 1);
    var v1 = clamp(Math.floor((top + p.h / z) / r[s.v] / vTile), 0, Math.ceil(size[s.v] / vTile) - 1);
    g.imageSmoothingEnabled = r[s.h] * z < 1.5;
    g.filter = "brightness(" + this.brightness + ") contrast(" + this.contrast + ")";
    for (var tv = v0; tv <= v1; tv++) {
      for (var th = h0; th <= h1; th++) {
        var a0 = th * hTile, a1 = Math.min(a0 + hTile, size[s.h]);
        var b0 = tv * vTile, b1 = Math.min(b0 + vTile, size[s.v]);
        var box = [[0, 0], [0, 0], [0, 0]];
        box[s.h] = [a0, a1];
        box[s.v] = [b0, b1];
        box[s.n] = [n, n + 1];
        var url = this.base + "/tiles/" + sc.key + "/" + box[0].join("-") + "_" + box[1].join("-") + "_" + box[2].join("-") + this.version;
        // While a tile of a new slice loads, the one drawn last at that place stands in, so scrolling never flashes black.
        var place = L + ":" + th + ":" + tv;
        var img = this.tile(url);
        if (img) p.shown[place] = img;
        else img = p.shown[place];
        if (!img) continue;
        var x = (a0 * r[s.h] - left) * z;
        var y = (b0 * r[s.v] - top) * z;
        g.drawImage(img, x, y, (a1 - a0) * r[s.h] * z, (b1 - b0) * r[s.v] * z);
      }
    }
    g.filter = "none";
    // Crosshair through the cursor.
    var cx = ((this.cursor[s.h] + 0.5) * this.res[s.h] - left) * z;
    var cy = ((this.cursor[s.v] + 0.5) * this.res[s.v] - top) * z;
    g.strokeStyle = "rgba(255, 200, 0, 0.8)";
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, Math.round(cy) + 0.5);
    g.lineTo(p.w, Math.round(cy) + 0.5);
    g.moveTo(Math.round(cx) + 0.5, 0);
    g.lineTo(Math.round(cx) + 0.5, p.h);
    g.stroke();
    // Scale bar: a round physical length about a fifth of the pane wide.
    var len = niceLength((p.w / 5) / z);
    var barPx = len * z;
    g.fillStyle = "#fff";
    g.fillRect(10, p.h - 14, barPx, 4);
    g.font = "12px sans-serif";
    g.fillText(formatLength(len, this.unit), 10, p.h - 20);
    if (active && this.panes.length > 1) {
      g.strokeStyle = "rgba(120, 180, 255, 0.9)";
      g.strokeRect(0.5, 0.5, p.w - 1, p.h - 1);
    }
    p.slider.value = String(this.cursor[s.n]);
    p.label.textContent = s.name + (this.flat ? "" : "  " + "xyz"[s.n] + " = " + this.cursor[s.n] + " / " + (this.size[s.n] - 1)) + "  level " + L;
    p.box.setAttribute("data-level", String(L));
  };

  function initAll(scope) {
    (scope || document).querySelectorAll(".mata-viewer[data-base]").forEach(function (root) {
      if (root.__viewer) return;
      root.__viewer = new Viewer(root);
    });
    (scope || document).querySelectorAll("select.viewer-choose").forEach(function (sel) {
      if (sel.__bound) return;
      sel.__bound = true;
      sel.addEventListener("change", function () {
        var host = document.getElementById(sel.getAttribute("data-target"));
        var tpl = host && host.querySelector(".mata-viewer");
        if (!tpl) return;
        var fresh = tpl.cloneNode(false);
        fresh.setAttribute("data-base", sel.value);
        var opt = sel.selectedOptions[0];
        fresh.setAttribute("data-unit", opt.getAttribute("data-unit") || "px");
        fresh.setAttribute("data-version", opt.getAttribute("data-version") || "");
        fresh.setAttribute("data-flat", opt.getAttribute("data-flat") || "0");
        fresh.innerHTML = '<div class="viewer-toolbar"></div><div class="viewer-panes"></div>';
        tpl.replaceWith(fresh);
        initAll(host);
      });
    });
  }

  window.MataViewer = { init: initAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { initAll(); });
  else initAll();
  document.addEventListener("htmx:load", function (e) { initAll(e.target); });
})();
