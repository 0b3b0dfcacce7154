/**
 * The 3D surface viewer for one mesh preview; static/mesh-viewer.js brings it to life. STL, OBJ and PLY carry no
 * unit, so distances are in `unit` when the caller knows one, else in "units of the file".
 */
export function MeshViewer(p: { src: string; name: string; unit?: string }) {
  return (
    <figure class="mesh-viewer" data-src={p.src} data-unit={p.unit ?? ""}>
      <div class="mesh-stage">
        <canvas
          tabindex={0}
          aria-label={`3D surface of ${p.name}: drag or arrow keys to move, R resets; while measuring, Enter picks the point under the centre cross`}
        ></canvas>
        <span class="mesh-cross" aria-hidden="true"></span>
      </div>
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
      <div class="mesh-tools">
        <fieldset class="mesh-measure">
          <legend>Distance</legend>
          <button type="button" data-action="measure" aria-pressed="false">
            Measure distance
          </button>
          <button type="button" data-action="measure-clear">
            Clear points
          </button>
          <output class="mesh-distance" aria-live="polite">
            Press "Measure distance", then click two points on the surface.
          </output>
        </fieldset>
        <fieldset class="mesh-clip">
          <legend>Clipping plane</legend>
          <label>
            <input type="checkbox" data-clip="on" /> Clip
          </label>
          <label>
            Axis{" "}
            <select data-clip="axis">
              <option value="0">X</option>
              <option value="1">Y</option>
              <option value="2" selected>
                Z
              </option>
            </select>
          </label>
          <label>
            Position <input type="range" data-clip="position" min="0" max="1000" value="500" />
          </label>
          <label>
            <input type="checkbox" data-clip="flip" /> Keep the other side
          </label>
          <output class="mesh-clip-value"></output>
        </fieldset>
      </div>
      <script type="module" src="/static/mesh-viewer.js"></script>
    </figure>
  );
}
