// The surface-mesh viewer: loads a meshopt-compressed GLB preview into a three.js scene with orbit controls.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { MeshoptDecoder } from "three/addons/libs/meshopt_decoder.module.js";

function setupViewer(el) {
  const canvas = el.querySelector("canvas");
  const status = el.querySelector(".mesh-status");
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
  let home = null;
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
      if (o.isMesh) o.material.wireframe = !o.material.wireframe;
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
    el.dataset.src,
    (gltf) => {
      model = gltf.scene;
      let triangles = 0;
      model.traverse((o) => {
        if (!o.isMesh) return;
        o.geometry.computeVertexNormals();
        triangles += (o.geometry.index ? o.geometry.index.count : o.geometry.attributes.position.count) / 3;
      });
      scene.add(model);
      const box = new THREE.Box3().setFromObject(model);
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
      status.textContent = `The surface preview could not be loaded: ${err?.message ?? err}`;
      el.dataset.ready = "error";
    },
  );
  resize();
}

document.querySelectorAll(".mesh-viewer[data-src]").forEach(setupViewer);
document.addEventListener("htmx:afterSettle", (e) => e.target.querySelectorAll?.(".mesh-viewer[data-src]:not([data-ready])").forEach(setupViewer));
