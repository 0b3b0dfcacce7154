// Preview state as the API reports it.
import { z } from "zod";

/** The one-line preview state of a dataset, over all its previews. */
export const PreviewSummary = z
  .object({
    state: z.enum(["none", "queued", "running", "ready", "failed"]),
    progress: z.number().min(0).max(1),
    etaSeconds: z.number().nullable().optional(),
    error: z.string().optional(),
  })
  .meta({ id: "PreviewSummary" });

/** One preview of one file (or volume): its geometry and, when ready, where its tiles, thumbnail or mesh are. */
export const Preview = z
  .object({
    n: z.number().int(),
    file: z.string(),
    kind: z.enum(["volume", "image", "mesh"]),
    format: z.string(),
    state: z.enum(["queued", "running", "ready", "failed"]),
    progress: z.number(),
    error: z.string().optional(),
    size: z.tuple([z.number(), z.number(), z.number()]).meta({ description: "Voxels (or pixels, or vertices/triangles) along x, y, z" }),
    dtype: z.string(),
    spacing: z.tuple([z.number(), z.number(), z.number()]),
    unit: z.string(),
    window: z.tuple([z.number(), z.number()]).nullable(),
    levels: z.number().int(),
    notes: z.array(z.string()),
    version: z.string().meta({ description: "Changes with the content; the URLs below carry it" }),
    complete: z.boolean().meta({ description: "False while only the coarse levels are shown: the full build is still running" }),
    tiles: z.string().optional().meta({ description: "Base URL of a Neuroglancer precomputed pyramid (info, XY/XZ/YZ tiles)" }),
    thumbnail: z.string().optional(),
    mesh: z.string().optional().meta({ description: "URL of the GLB of a mesh preview" }),
  })
  .meta({ id: "Preview" });

/** A dataset's previews and their summary. */
export const PreviewStatus = z.object({ preview: PreviewSummary, previews: z.array(Preview) });
