// Mata slice viewer: three synchronized panes (XY, XZ, YZ) over a Neuroglancer "precomputed" pyramid of
// JPEG tiles. Plain JS on canvas, no dependencies. Each pane draws the plane through a shared cursor at the
// coarsest level that still gives at least one tile pixel per screen pixel, so a view costs about 20 tiles.
import { el } from "../lib/dom.js";
import { clamp, formatLength, niceLength } from "./numbers.js";

/** @typedef {0 | 1 | 2} Axis */
/** @typedef {[number, number, number]} Vec3 */
/** @typedef {{ key: string; size: Vec3; resolution: Vec3 }} Scale */
/** @typedef {{ scales: [Scale, ...Scale[]] }} Info the pyramid's `info` file, finest scale first */
/** @typedef {{ name: string; h: Axis; v: Axis; n: Axis }} PaneSpec h/v: which volume axis runs across and down; n: the axis the pane slices through */
/** @typedef {{ x: number; y: number; cx: number; cy: number; moved: boolean }} Drag */
/**
 * @typedef {object} Pane
 * @property {PaneSpec} spec
 * @property {HTMLCanvasElement} canvas
 * @property {HTMLInputElement} slider
 * @property {HTMLSpanElement} label
 * @property {HTMLDivElement} box
 * @property {[number, number]} center physical point (nm) at the pane's centre
 * @property {Drag | null} drag
 * @property {Record<string, HTMLImageElement>} shown the tile drawn last at each place
 * @property {number} w CSS pixels
 * @property {number} h CSS pixels
 */
/** @typedef {{ img: HTMLImageElement; ready: boolean }} Tile */

const TILE = 256;
const CACHE_MAX = 600;
/** @type {PaneSpec[]} */
const PANES = [
  { name: "XY", h: 0, v: 1, n: 2 },
  { name: "XZ", h: 0, v: 2, n: 1 },
  { name: "YZ", h: 1, v: 2, n: 0 },
];

/**
 * Fetches the pyramid's description, then shows it in root (a `.mata-viewer` with `data-base`); a failure is said in root.
 * @param {HTMLElement} root
 */
export function loadViewer(root) {
  const base = root.getAttribute("data-base") ?? "";
  fetch(base + "/tiles/info", { credentials: "same-origin" })
    .then((r) => {
      if (!r.ok) throw new Error("preview info: HTTP " + r.status);
      return r.json();
    })
    .then((/** @type {Info} */ info) => new SliceViewer(root, base, info))
    .catch((/** @type {Error} */ e) => {
      root.textContent = "The preview could not be loaded: " + e.message;
      root.setAttribute("data-state", "error");
    });
}

class SliceViewer {
  /**
   * @param {HTMLElement} root
   * @param {string} base URL of the preview; its tiles are under base + "/tiles/"
   * @param {Info} info
   */
  constructor(root, base, info) {
    this.root = root;
    this.base = base;
    // Tiles are cached for a year, so their URLs carry the content version: new content, new URLs.
    this.version = root.getAttribute("data-version") ? "?v=" + root.getAttribute("data-version") : "";
    this.unit = root.getAttribute("data-unit") || "px";
    /** @type {Map<string, Tile>} */
    this.cache = new Map();
    this.requests = 0;
    this.brightness = 1;
    this.contrast = 1;
    this.active = 0;
    this.drawQueued = false;
    /** Screen pixels per nanometre; 0 until the first fit. */
    this.zoom = 0;
    this.minZoom = 0;
    this.scales = info.scales;
    this.size = info.scales[0].size;
    this.res = info.scales[0].resolution;
    this.flat = this.size[2] === 1;
    /** @type {Vec3} */
    this.cursor = [Math.floor(this.size[0] / 2), Math.floor(this.size[1] / 2), Math.floor(this.size[2] / 2)];
    this.panes = (this.flat ? PANES.slice(0, 1) : PANES).map((p) => this.makePane(p));
    const bar = this.makeToolbar();
    this.bInput = bar.brightness;
    this.cInput = bar.contrast;
    this.readout = bar.readout;
    this.root.setAttribute("data-state", "ready");
    this.root.tabIndex = 0;
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    new ResizeObserver(() => this.fit()).observe(this.root);
    document.addEventListener("fullscreenchange", () => this.fit());
    this.fit();
  }

  /**
   * @param {PaneSpec} spec
   * @returns {Pane}
   */
  makePane(spec) {
    const canvas = el("canvas", { class: "viewer-canvas", "aria-label": spec.name + " slice" });
    const slider = el("input", {
      type: "range",
      min: "0",
      max: String(this.size[spec.n] - 1),
      value: String(this.cursor[spec.n]),
      "aria-label": spec.name + " slice position",
    });
    const label = el("span", { class: "viewer-pane-label" });
    const box = el("div", { class: "viewer-pane", "data-pane": spec.name }, [
      canvas,
      el("div", { class: "viewer-pane-bar" }, [label, this.flat ? el("span") : slider]),
    ]);
    this.root.querySelector(".viewer-panes")?.appendChild(box);
    /** @type {Pane} */
    const pane = { spec, canvas, slider, label, box, center: [0, 0], drag: null, shown: {}, w: 1, h: 1 };
    slider.addEventListener("input", () => {
      this.cursor[spec.n] = Number(slider.value);
      this.draw();
    });
    canvas.addEventListener("pointerdown", (e) => {
      this.active = this.panes.indexOf(pane);
      canvas.setPointerCapture(e.pointerId);
      pane.drag = { x: e.clientX, y: e.clientY, cx: pane.center[0], cy: pane.center[1], moved: false };
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!pane.drag) return;
      const dx = e.clientX - pane.drag.x;
      const dy = e.clientY - pane.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) pane.drag.moved = true;
      if (!pane.drag.moved) return;
      pane.center = [pane.drag.cx - dx / this.zoom, pane.drag.cy - dy / this.zoom];
      this.draw();
    });
    canvas.addEventListener("pointerup", (e) => {
      const d = pane.drag;
      pane.drag = null;
      if (d && !d.moved) this.pick(pane, e);
    });
    canvas.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        this.active = this.panes.indexOf(pane);
        if (e.ctrlKey || e.metaKey || this.flat) this.zoomBy(e.deltaY < 0 ? 1.25 : 0.8);
        else this.step(pane, e.deltaY > 0 ? 1 : -1);
      },
      { passive: false },
    );
    return pane;
  }

  makeToolbar() {
    const bar = this.root.querySelector(".viewer-toolbar") ?? this.root;
    /**
     * @param {string} text
     * @param {string} title
     * @param {() => void} fn
     */
    const button = (text, title, fn) => {
      const b = el("button", { type: "button", title, text });
      b.addEventListener("click", fn);
      bar.appendChild(b);
    };
    /**
     * @param {string} label
     * @param {number} min
     * @param {number} max
     * @param {(v: number) => void} fn
     */
    const range = (label, min, max, fn) => {
      const input = el("input", { type: "range", min: String(min), max: String(max), step: "0.05", value: "1", "aria-label": label });
      input.addEventListener("input", () => {
        fn(Number(input.value));
        this.draw();
      });
      bar.appendChild(el("label", {}, [document.createTextNode(label + " "), input]));
      return input;
    };
    button("\u2212", "Zoom out (-)", () => this.zoomBy(0.8));
    button("+", "Zoom in (+)", () => this.zoomBy(1.25));
    button("1:1", "Full resolution (1)", () => this.fullResolution());
    button("Reset", "Fit and centre (r)", () => this.reset());
    const brightness = range("Brightness", 0.2, 3, (v) => (this.brightness = v));
    const contrast = range("Contrast", 0.2, 4, (v) => (this.contrast = v));
    button("Fullscreen", "Fullscreen (f)", () => this.fullscreen());
    const readout = el("span", { class: "viewer-readout" });
    bar.appendChild(readout);
    return { brightness, contrast, readout };
  }

  /**
   * Physical extent of a pane's axes (nm).
   * @param {PaneSpec} spec
   * @returns {[number, number]}
   */
  extent(spec) {
    return [this.size[spec.h] * this.res[spec.h], this.size[spec.v] * this.res[spec.v]];
  }

  fit() {
    const dpr = window.devicePixelRatio || 1;
    for (const p of this.panes) {
      const r = p.canvas.getBoundingClientRect();
      p.w = Math.max(1, Math.round(r.width));
      p.h = Math.max(1, Math.round(r.height));
      p.canvas.width = Math.round(p.w * dpr);
      p.canvas.height = Math.round(p.h * dpr);
    }
    if (!this.zoom) this.reset();
    else this.draw();
  }

  reset() {
    let z = Infinity;
    for (const p of this.panes) {
      const e = this.extent(p.spec);
      z = Math.min(z, p.w / e[0], p.h / e[1]);
      p.center = [e[0] / 2, e[1] / 2];
    }
    this.zoom = z * 0.95;
    this.minZoom = this.zoom / 4;
    this.draw();
  }

  /** @param {number} f */
  zoomBy(f) {
    const maxZoom = 16 / Math.min(this.res[0], this.res[1], this.res[2]);
    this.zoom = clamp(this.zoom * f, this.minZoom, maxZoom);
    this.draw();
  }

  /** One screen pixel per full-resolution voxel, centred on the cursor. */
  fullResolution() {
    this.zoom = 1 / Math.min(this.res[0], this.res[1]);
    for (const p of this.panes) p.center = [(this.cursor[p.spec.h] + 0.5) * this.res[p.spec.h], (this.cursor[p.spec.v] + 0.5) * this.res[p.spec.v]];
    this.draw();
  }

  fullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (this.root.requestFullscreen) this.root.requestFullscreen();
  }

  /**
   * @param {Pane} pane
   * @param {number} d
   */
  step(pane, d) {
    const n = pane.spec.n;
    this.cursor[n] = clamp(this.cursor[n] + d, 0, this.size[n] - 1);
    this.draw();
  }

  /**
   * A click moves the cursor to the clicked voxel, so the other two panes show the planes through it.
   * @param {Pane} pane
   * @param {PointerEvent} e
   */
  pick(pane, e) {
    const r = pane.canvas.getBoundingClientRect();
    const s = pane.spec;
    const px = pane.center[0] + (e.clientX - r.left - pane.w / 2) / this.zoom;
    const py = pane.center[1] + (e.clientY - r.top - pane.h / 2) / this.zoom;
    this.cursor[s.h] = clamp(Math.floor(px / this.res[s.h]), 0, this.size[s.h] - 1);
    this.cursor[s.v] = clamp(Math.floor(py / this.res[s.v]), 0, this.size[s.v] - 1);
    this.draw();
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    const pane = this.panes[this.active] ?? this.panes[0];
    const k = e.key;
    if (!pane) return;
    if (k === "ArrowUp" || k === "PageUp") this.step(pane, k === "PageUp" ? -10 : -1);
    else if (k === "ArrowDown" || k === "PageDown") this.step(pane, k === "PageDown" ? 10 : 1);
    else if (k === "ArrowLeft") this.active = (this.active + this.panes.length - 1) % this.panes.length;
    else if (k === "ArrowRight") this.active = (this.active + 1) % this.panes.length;
    else if (k === "+" || k === "=") this.zoomBy(1.25);
    else if (k === "-") this.zoomBy(0.8);
    else if (k === "1") this.fullResolution();
    else if (k === "r") this.reset();
    else if (k === "f") this.fullscreen();
    else if (k === "b" || k === "B") {
      this.brightness = clamp(this.brightness + (k === "b" ? 0.1 : -0.1), 0.2, 3);
      this.bInput.value = String(this.brightness);
    } else if (k === "c" || k === "C") {
      this.contrast = clamp(this.contrast + (k === "c" ? 0.1 : -0.1), 0.2, 4);
      this.cInput.value = String(this.contrast);
    } else return;
    e.preventDefault();
    this.draw();
  }

  draw() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.render();
    });
  }

  /**
   * The coarsest level whose voxels are at most ~1.4 screen pixels in this pane: tiles then cover 180-360
   * screen pixels, so a pane needs 4-12 of them at any zoom (about 20 for the three panes).
   * @param {PaneSpec} spec
   */
  levelFor(spec) {
    let best = 0;
    this.scales.forEach((sc, l) => {
      const r = sc.resolution;
      if (Math.min(r[spec.h], r[spec.v]) * this.zoom <= 1.415 || l === 0) best = l;
    });
    return best;
  }

  /**
   * The tile at url if it has loaded; otherwise starts loading it (once) and returns null.
   * @param {string} url
   */
  tile(url) {
    const hit = this.cache.get(url);
    if (hit) {
      this.cache.delete(url);
      this.cache.set(url, hit);
      return hit.ready ? hit.img : null;
    }
    /** @type {Tile} */
    const entry = { img: new Image(), ready: false };
    entry.img.addEventListener("load", () => {
      entry.ready = true;
      this.draw();
    });
    entry.img.src = url;
    this.requests++;
    this.cache.set(url, entry);
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= CACHE_MAX) break;
      this.cache.delete(oldest);
    }
    return null;
  }

  render() {
    const c = this.cursor;
    this.panes.forEach((p, i) => this.renderPane(p, i === this.active));
    this.root.setAttribute("data-cursor", c.join(","));
    this.root.setAttribute("data-requests", String(this.requests));
    const phys = c.map((v, i) => formatLength((v + 0.5) * (this.res[i] ?? 1), this.unit));
    this.readout.textContent = "x " + c[0] + "  y " + c[1] + "  z " + c[2] + "  (" + phys.join(", ") + ")";
  }

  /**
   * @param {Pane} p
   * @param {boolean} active
   */
  renderPane(p, active) {
    const s = p.spec;
    const g = p.canvas.getContext("2d");
    if (!g) return;
    const dpr = p.canvas.width / p.w;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#000";
    g.fillRect(0, 0, p.w, p.h);
    const L = this.levelFor(s);
    const sc = this.scales[L] ?? this.scales[0];
    const size = sc.size;
    const r = sc.resolution;
    // The slice through the cursor at this level.
    const n = Math.min(size[s.n] - 1, Math.floor(((this.cursor[s.n] + 0.5) * this.res[s.n]) / r[s.n]));
    const z = this.zoom;
    const left = p.center[0] - p.w / 2 / z;
    const top = p.center[1] - p.h / 2 / z;
    const h0 = clamp(Math.floor(left / r[s.h] / TILE), 0, Math.ceil(size[s.h] / TILE) - 1);
    const h1 = clamp(Math.floor((left + p.w / z) / r[s.h] / TILE), 0, Math.ceil(size[s.h] / TILE) - 1);
    const v0 = clamp(Math.floor(top / r[s.v] / TILE), 0, Math.ceil(size[s.v] / TILE) - 1);
    const v1 = clamp(Math.floor((top + p.h / z) / r[s.v] / TILE), 0, Math.ceil(size[s.v] / TILE) - 1);
    g.imageSmoothingEnabled = r[s.h] * z < 1.5;
    g.filter = "brightness(" + this.brightness + ") contrast(" + this.contrast + ")";
    for (let tv = v0; tv <= v1; tv++) {
      for (let th = h0; th <= h1; th++) {
        const a0 = th * TILE,
          a1 = Math.min(a0 + TILE, size[s.h]);
        const b0 = tv * TILE,
          b1 = Math.min(b0 + TILE, size[s.v]);
        /** @type {[[number, number], [number, number], [number, number]]} */
        const box = [
          [0, 0],
          [0, 0],
          [0, 0],
        ];
        box[s.h] = [a0, a1];
        box[s.v] = [b0, b1];
        box[s.n] = [n, n + 1];
        const url = this.base + "/tiles/" + sc.key + "/" + box[0].join("-") + "_" + box[1].join("-") + "_" + box[2].join("-") + this.version;
        // While a tile of a new slice loads, the one drawn last at that place stands in, so scrolling never flashes black.
        const place = L + ":" + th + ":" + tv;
        let img = this.tile(url);
        if (img) p.shown[place] = img;
        else img = p.shown[place] ?? null;
        if (!img) continue;
        const x = (a0 * r[s.h] - left) * z;
        const y = (b0 * r[s.v] - top) * z;
        g.drawImage(img, x, y, (a1 - a0) * r[s.h] * z, (b1 - b0) * r[s.v] * z);
      }
    }
    g.filter = "none";
    // Crosshair through the cursor.
    const cx = ((this.cursor[s.h] + 0.5) * this.res[s.h] - left) * z;
    const cy = ((this.cursor[s.v] + 0.5) * this.res[s.v] - top) * z;
    g.strokeStyle = "rgba(255, 200, 0, 0.8)";
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, Math.round(cy) + 0.5);
    g.lineTo(p.w, Math.round(cy) + 0.5);
    g.moveTo(Math.round(cx) + 0.5, 0);
    g.lineTo(Math.round(cx) + 0.5, p.h);
    g.stroke();
    // Scale bar: a round physical length about a fifth of the pane wide.
    const len = niceLength(p.w / 5 / z);
    const barPx = len * z;
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
  }
}
