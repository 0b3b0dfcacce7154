// Datasets as the API lists and shows them.
import { z } from "zod";
import { Iso } from "../web/schemas.ts";
import { Tag } from "../tags/tags.schemas.ts";
import { Preview, PreviewSummary } from "../preview/preview.schemas.ts";

/** A dataset in lists. */
export const DatasetSummary = z
  .object({
    id: z.number().int(),
    path: z.string().meta({ description: "The dataset folder, relative to the share root" }),
    title: z.string(),
    owner: z.string().nullable(),
    state: z.enum(["present", "missing"]),
    files: z.object({ count: z.number().int(), bytes: z.number() }),
    updatedAt: Iso,
  })
  .meta({ id: "DatasetSummary" });

/** One dataset with everything its page shows. */
export const DatasetDetail = DatasetSummary.extend({
  uid: z.string(),
  description: z.string(),
  version: z.number().int().meta({ description: "Send back with PATCH to refuse (409) an edit based on an outdated version" }),
  tagsVersion: z.number().int(),
  generation: z.number().int(),
  scanError: z.string().nullable(),
  createdAt: Iso,
  missingSince: Iso.nullable(),
  parents: z.array(z.number().int()),
  children: z.array(z.number().int()),
  tags: z.array(Tag),
  preview: PreviewSummary,
  previews: z.array(Preview),
  privacy: z
    .object({ identifiers: z.array(z.string()) })
    .optional()
    .meta({ description: "Present, for readers and admins, when the dataset's DICOM files carry identifying attributes (PS3.15 keywords, never values)" }),
  extraction: z
    .object({ failures: z.array(z.object({ source: z.string(), message: z.string(), at: Iso })) })
    .optional()
    .meta({ description: "Present, for readers and admins, when a metadata extractor or plug-in failed on its latest run" }),
}).meta({ id: "DatasetDetail" });

/** A page of datasets. */
export const DatasetList = z.object({ items: z.array(DatasetSummary), total: z.number().int() });

/** A page of a dataset's files. */
export const FileList = z.object({
  items: z.array(z.object({ path: z.string(), size: z.number(), modifiedAt: Iso })),
  total: z.number().int(),
  next: z.string().nullable().meta({ description: "Pass as `after` for the next page; null on the last page" }),
});

/** Title and description after an edit, with the new version. */
export const Described = z.object({ id: z.number().int(), title: z.string(), description: z.string(), version: z.number().int() });
