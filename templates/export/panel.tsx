import { CsrfField } from "../web/csrf-field.tsx";

/** The export panel of a dataset page: a plain form, so it works without JavaScript; shown to those who may edit. */
export function ExportPanel(p: { datasetId: number; csrf?: string }) {
  return (
    <section class="panel" aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <form method="post" action={`/datasets/${p.datasetId}/export/ome-zarr`}>
        <CsrfField token={p.csrf} />
        <button type="submit" name="format" value="ome-zarr">
          Export OME-Zarr
        </button>
      </form>
      <p class="hint">
        Writes each volume as <code>derived/&lt;volume&gt;.ome.zarr</code> in the dataset folder (OME-Zarr 0.4: napari, Fiji, Neuroglancer).
      </p>
    </section>
  );
}
