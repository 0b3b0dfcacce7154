/** The 3D surface viewer for one mesh preview; static/mesh-viewer.js brings it to life. */
export function MeshViewer(p: { src: string; name: string }) {
  return (
    <figure class="mesh-viewer" data-src={p.src}>
      <canvas tabindex={0} aria-label={`3D surface of ${p.name}`}></canvas>
      <figcaption>
        <span class="mesh-name">{p.name}</span> <span class="mesh-status muted" aria-live="polite"></span>
        <span class="mesh-actions">
          <button type="button" data-action="reset">
            Reset view
          </button>
          <button type="button" data-action="wireframe">
            Wireframe
          </button>
          <button type="button" data-action="fullscreen">
            Fullscreen
          </button>
        </span>
      </figcaption>
      <script type="module" src="/static/mesh-viewer.js"></script>
    </figure>
  );
}
