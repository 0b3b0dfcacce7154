// The surface-mesh viewer: loads a meshopt-compressed GLB preview into a three.js scene with orbit controls.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { MeshoptDecoder } from "three/addons/libs/meshopt_decoder.module.js";
import { eachPresent } from "./lib/dom.js";

/**
 * Brings one `.mesh-viewer` figure (templates/mesh/viewer.tsx) to life: its canvas, buttons and keys.
 * @param {HTMLElement} el
 */
function setupViewer(el) {
  const canvas = el.querySelector("canvas");
  const status = el.querySelector(".mesh-status");
  const src = el.dataset.src;
  if (!canvas || !status || !src) return;
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
  /** @type {{ position: THREE.Vector3; target: THREE.Vector3 } | null} */
  let home = null;
  /** @type {THREE.Object3D | null} */
  let model = null;

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
  el.querySelector("[data-action=reset]")?.addEventListener("click", reset);
  el.querySelector("[data-action=wireframe]")?.addEventListener("click", toggleWireframe);
  el.querySelector("[data-action=fullscreen]")?.addEventListener("click", () => el.requestFullscreen?.());
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "r") reset();
    else if (e.key === "w") toggleWireframe();
    else return;
    e.preventDefault();
  });

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
      });
      scene.add(loaded);
      const box = new THREE.Box3().setFromObject(loaded);
      const size = box.getSize(new THREE.Vector3()).length() || 1;
      const center = box.getCenter(new THREE.Vector3());
      camera.near = size / 1000;
      camera.far = size * 100;
      camera.updateProjectionMatrix();
      home = { position: center.clone().add(new THREE.Vector3(0.6, 0.45, 0.9).normalize().multiplyScalar(size * 1.2)), target: center };
      reset();
      status.textContent = `${Math.round(triangles).toLocaleString()} triangles · drag to rotate, scroll to zoom, R resets, W wireframe`;
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
