// The surface-mesh viewer: loads a meshopt-compressed GLB preview into a three.js scene with orbit controls, a distance
// tool (two picked points, in the file's units) and a movable clipping plane.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { MeshoptDecoder } from "three/addons/libs/meshopt_decoder.module.js";
import { eachPresent } from "./lib/dom.js";

/** A pointer that moved less than this many CSS pixels between press and release clicked (a pick), not dragged. */
const CLICK_SLOP = 5;

/**
 * A length or coordinate with as many decimals as the model's size makes meaningful (about 1/10,000 of it).
 * @param {number} v
 * @param {number} size
 */
function formatLength(v, size) {
  const decimals = Math.min(6, Math.max(0, 4 - Math.ceil(Math.log10(size || 1))));
  return v.toFixed(decimals);
}

/**
 * Brings one `.mesh-viewer` figure (templates/mesh/viewer.tsx) to life: its canvas, buttons, tools and keys.
 * @param {HTMLElement} el
 */
function setupViewer(el) {
  const canvas = el.querySelector("canvas");
  const status = el.querySelector(".mesh-status");
  const distanceOut = el.querySelector(".mesh-distance");
  const clipOut = el.querySelector(".mesh-clip-value");
  const src = el.dataset.src;
  if (!canvas || !status || !distanceOut || !clipOut || !src) return;
  const unit = el.dataset.unit || "units of the file";
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x20242b);
  const camera = new THREE.PerspectiveCamera(40, 1, 0.01, 1000);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x404040, 1.6));
  const key = new THREE.DirectionalLight(0xffffff, 1.8);
  camera.add(key);
  key.position.set(1, 1, 2);
  scene.add(camera);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = false;
  // Arrow keys move the view when the canvas has the focus, so the centre cross can be put on any point.
  controls.listenToKeyEvents(canvas);
  /** @type {{ position: THREE.Vector3; target: THREE.Vector3 } | null} */
  let home = null;
  /** @type {THREE.Object3D | null} */
  let model = null;
  const bounds = new THREE.Box3();
  let size = 1;

  const render = () => renderer.render(scene, camera);
  const resize = () => {
    const w = el.clientWidth || 640;
    const h = Math.max(240, Math.round(w * 0.6));
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    render();
  };
  controls.addEventListener("change", render);
  new ResizeObserver(resize).observe(el);

  const reset = () => {
    if (!home) return;
    camera.position.copy(home.position);
    controls.target.copy(home.target);
    controls.update();
    render();
  };
  const toggleWireframe = () => {
    model?.traverse((o) => {
      if (!(o instanceof THREE.Mesh)) return;
      for (const m of Array.isArray(o.material) ? o.material : [o.material]) if ("wireframe" in m) m.wireframe = !m.wireframe;
    });
    render();
  };

  // The clipping plane: keeps the part of the model on one side of a plane across the chosen axis.
  const plane = new THREE.Plane(new THREE.Vector3(0, 0, -1), 0);
  const clipOn = /** @type {HTMLInputElement | null} */ (el.querySelector("[data-clip=on]"));
  const clipAxis = /** @type {HTMLSelectElement | null} */ (el.querySelector("[data-clip=axis]"));
  const clipPos = /** @type {HTMLInputElement | null} */ (el.querySelector("[data-clip=position]"));
  const clipFlip = /** @type {HTMLInputElement | null} */ (el.querySelector("[data-clip=flip]"));
  const updateClip = () => {
    if (!clipOn || !clipAxis || !clipPos || !clipFlip) return;
    const axis = Number(clipAxis.value);
    const lo = bounds.isEmpty() ? 0 : bounds.min.getComponent(axis);
    const hi = bounds.isEmpty() ? 1 : bounds.max.getComponent(axis);
    const at = lo + (Number(clipPos.value) / Number(clipPos.max)) * (hi - lo);
    const normal = new THREE.Vector3().setComponent(axis, clipFlip.checked ? 1 : -1);
    // three keeps the points whose signed distance is positive: normal · p + constant ≥ 0.
    plane.set(normal, clipFlip.checked ? -at : at);
    renderer.localClippingEnabled = clipOn.checked;
    const name = "XYZ"[axis];
    clipOut.textContent = clipOn.checked ? `showing ${name} ${clipFlip.checked ? "≥" : "≤"} ${formatLength(at, size)} ${unit}` : "off";
    render();
  };
  for (const input of [clipOn, clipAxis, clipPos, clipFlip]) input?.addEventListener("input", updateClip);

  // The distance tool: two points picked on the surface, a line between them and the distance in the file's units.
  const measureButton = el.querySelector("[data-action=measure]");
  let measuring = false;
  /** @type {THREE.Vector3[]} */
  let points = [];
  const marks = new THREE.Group();
  scene.add(marks);
  const markMaterial = new THREE.MeshBasicMaterial({ color: 0xffd54a, depthTest: false });
  const lineMaterial = new THREE.LineBasicMaterial({ color: 0xffd54a, depthTest: false });
  const raycaster = new THREE.Raycaster();
  const setMeasuring = (/** @type {boolean} */ on) => {
    measuring = on;
    measureButton?.setAttribute("aria-pressed", String(on));
    el.dataset.measuring = String(on);
    if (on && points.length === 0) distanceOut.textContent = "Click a point on the surface (or press Enter on the view for the point under the cross).";
  };
  const showPoints = () => {
    for (const m of marks.children) if (m instanceof THREE.Mesh || m instanceof THREE.Line) m.geometry.dispose();
    marks.clear();
    for (const p of points) {
      const dot = new THREE.Mesh(new THREE.SphereGeometry(size / 150, 12, 8), markMaterial);
      dot.position.copy(p);
      dot.renderOrder = 10;
      marks.add(dot);
    }
    if (points.length === 2) {
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(points), lineMaterial);
      line.renderOrder = 10;
      marks.add(line);
    }
    const fmt = (/** @type {THREE.Vector3} */ p) =>
      `(${p
        .toArray()
        .map((c) => formatLength(c, size))
        .join(", ")})`;
    const [a, b] = points;
    if (a && b) distanceOut.textContent = `Distance: ${formatLength(a.distanceTo(b), size)} ${unit} from A ${fmt(a)} to B ${fmt(b)}`;
    else if (a) distanceOut.textContent = `A ${fmt(a)}: now pick the second point.`;
    else distanceOut.textContent = measuring ? "Click a point on the surface." : 'Press "Measure distance", then click two points on the surface.';
    render();
  };
  /**
   * Picks the surface point under a position of the canvas (CSS pixels), skipping what the clipping plane hides.
   * @param {number} x
   * @param {number} y
   */
  const pick = (x, y) => {
    if (!model) return;
    const r = canvas.getBoundingClientRect();
    raycaster.setFromCamera(new THREE.Vector2((x / r.width) * 2 - 1, -(y / r.height) * 2 + 1), camera);
    const hit = raycaster.intersectObject(model, true).find((h) => !renderer.localClippingEnabled || plane.distanceToPoint(h.point) >= 0);
    if (!hit) {
      distanceOut.textContent = "No surface there: pick a point on the model.";
      return;
    }
    points = points.length >= 2 ? [hit.point.clone()] : [...points, hit.point.clone()];
    showPoints();
  };
  measureButton?.addEventListener("click", () => setMeasuring(!measuring));
  el.querySelector("[data-action=measure-clear]")?.addEventListener("click", () => {
    points = [];
    showPoints();
  });
  /** @type {{ x: number; y: number } | null} */
  let down = null;
  canvas.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
  canvas.addEventListener("pointerup", (e) => {
    if (!measuring || !down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > CLICK_SLOP) return;
    const r = canvas.getBoundingClientRect();
    pick(e.clientX - r.left, e.clientY - r.top);
  });

  el.querySelector("[data-action=reset]")?.addEventListener("click", reset);
  el.querySelector("[data-action=wireframe]")?.addEventListener("click", toggleWireframe);
  el.querySelector("[data-action=fullscreen]")?.addEventListener("click", () => el.requestFullscreen?.());
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "r") reset();
    else if (e.key === "w") toggleWireframe();
    else if (e.key === "m") setMeasuring(!measuring);
    else if (e.key === "Enter" && measuring) {
      const r = canvas.getBoundingClientRect();
      pick(r.width / 2, r.height / 2);
    } else return;
    e.preventDefault();
  });

  /**
   * Where a model point appears on the canvas, in CSS pixels from its top left: for scripts and tests that click
   * known points of the surface.
   * @param {number} x
   * @param {number} y
   * @param {number} z
   */
  const project = (x, y, z) => {
    const r = canvas.getBoundingClientRect();
    const p = new THREE.Vector3(x, y, z).project(camera);
    return [((p.x + 1) / 2) * r.width, ((1 - p.y) / 2) * r.height];
  };
  Object.assign(el, { meshViewer: { project } });

  const loader = new GLTFLoader();
  loader.setMeshoptDecoder(MeshoptDecoder);
  status.textContent = "Loading surface…";
  loader.load(
    src,
    (gltf) => {
      const loaded = gltf.scene;
      model = loaded;
      let triangles = 0;
      loaded.traverse((o) => {
        if (!(o instanceof THREE.Mesh)) return;
        o.geometry.computeVertexNormals();
        triangles += (o.geometry.index ? o.geometry.index.count : o.geometry.getAttribute("position").count) / 3;
        for (const m of Array.isArray(o.material) ? o.material : [o.material]) m.clippingPlanes = [plane];
      });
      scene.add(loaded);
      bounds.setFromObject(loaded);
      size = bounds.getSize(new THREE.Vector3()).length() || 1;
      const center = bounds.getCenter(new THREE.Vector3());
      camera.near = size / 1000;
      camera.far = size * 100;
      camera.updateProjectionMatrix();
      home = { position: center.clone().add(new THREE.Vector3(0.6, 0.45, 0.9).normalize().multiplyScalar(size * 1.2)), target: center };
      reset();
      updateClip();
      status.textContent = `${Math.round(triangles).toLocaleString()} triangles · drag to rotate, scroll to zoom, R resets, W wireframe, M measures`;
      el.dataset.ready = "true";
    },
    undefined,
    (err) => {
      status.textContent = `The surface preview could not be loaded: ${err instanceof Error ? err.message : err}`;
      el.dataset.ready = "error";
    },
  );
  resize();
}

eachPresent(".mesh-viewer[data-src]", HTMLElement, setupViewer);
