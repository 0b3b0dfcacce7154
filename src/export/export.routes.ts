import { z } from "zod";
import { route } from "../web/route.ts";
import { attempt } from "../web/fragment.ts";
import { seeOther } from "../web/plain-form.ts";
import { DatasetParams, ErrorBody, json } from "../web/schemas.ts";
import { EXPORT_JOB, queueExport } from "./export.job.ts";

const ExportBody = z
  .object({
    file: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .meta({ description: "Only this volume (the file naming it, relative to the dataset folder); default: every volume" }),
  })
  .strict()
  .optional();

const Queued = z
  .object({
    jobId: z.number().int(),
    kind: z.literal(EXPORT_JOB),
    datasetId: z.number().int(),
    status: z.string().meta({ description: "Where the job's state, progress and error are read" }),
  })
  .meta({ id: "ExportQueued" });

/** Export of a dataset's volumes as OME-Zarr into its `derived/` folder: the API (202 with the job) and the page's button. */
export const exportRoutes = [
  route({
    method: "post",
    path: "/api/v1/datasets/:id/export/ome-zarr",
    access: "edit",
    group: "export",
    summary: "Queue a job writing each volume as OME-Zarr 0.4 (Zarr v2, multiscale, gzip) to derived/<volume>.ome.zarr",
    params: DatasetParams,
    body: ExportBody,
    responses: {
      202: json(Queued, "The export job, queued"),
      409: json(ErrorBody, "The dataset is missing from the share"),
    },
    handler: (c, { params, body }) => {
      const jobId = queueExport(c.var.ctx, params.id, { actor: c.var.user.name, file: body?.file });
      return c.json({ jobId, kind: EXPORT_JOB, datasetId: params.id, status: `/api/v1/datasets/${params.id}/jobs?kind=${EXPORT_JOB}` }, 202);
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/export/ome-zarr",
    access: "edit",
    summary: "The dataset page's Export OME-Zarr button: queues the export and goes back to the page",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ format: z.literal("ome-zarr", { error: "format must be ome-zarr" }) }),
    responses: { 303: { description: "Back to the dataset page, saying the export was queued (or why not)" } },
    handler: (c, { params }) => {
      const back = `/datasets/${params.id}`;
      return attempt(
        () => {
          const jobId = queueExport(c.var.ctx, params.id, { actor: c.var.user.name });
          return seeOther(c, back, { kind: "notice", text: `OME-Zarr export queued (job ${jobId}): each volume goes to derived/<volume>.ome.zarr.` });
        },
        (e) => seeOther(c, back, { kind: "error", text: e.message }),
      );
    },
  }),
];
