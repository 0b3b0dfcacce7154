import { z } from "zod";
import { pageProps } from "../web/page-props.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, json, queryInt } from "../web/schemas.ts";
import { notFound } from "../errors.ts";
import { queueFor } from "../jobs/index.ts";
import { FixityPage } from "../../templates/fixity/fixity.tsx";
import { allMismatches, fixityView } from "./fixity.service.ts";
import { fixityRepo } from "./fixity.repo.ts";
import { queueFixity } from "./fixity.job.ts";

const Mismatch = z
  .object({
    path: z.string().meta({ description: "The file, relative to the dataset folder" }),
    size: z.number().int(),
    expected: z.string().meta({ description: "SHA-256 (hex) recorded for this size and mtime" }),
    actual: z.string().meta({ description: "SHA-256 (hex) of the content read now" }),
    foundAt: z.number().meta({ description: "When it was found (ms since the epoch)" }),
  })
  .meta({ id: "FixityMismatch" });

const Fixity = z
  .object({
    files: z.number().int(),
    hashed: z.number().int().meta({ description: "Files with a recorded checksum" }),
    verifiedAt: z.number().nullable().meta({ description: "When every file was last read and compared (ms), or null" }),
    mismatches: z.array(Mismatch),
  })
  .meta({ id: "Fixity" });

/** Fixity reports: a dataset's to its readers, every dataset's to admins; a verification queued by its editors. */
export const fixityRoutes = [
  route({
    method: "get",
    path: "/api/v1/datasets/:id/fixity",
    access: "read",
    group: "fixity",
    summary: "A dataset's checksums: how many files have one, when all were last verified, and files whose content changed",
    params: DatasetParams,
    responses: { 200: json(Fixity, "The dataset's fixity") },
    handler: (c, { params }) => {
      const view = fixityView(c.var.ctx, params.id);
      if (!view) throw notFound(`No dataset ${params.id}`);
      return c.json(view);
    },
  }),
  route({
    method: "post",
    path: "/api/v1/datasets/:id/fixity/verify",
    access: "edit",
    group: "fixity",
    summary: "Queue a verification of every file of the dataset now (its editors, admins)",
    params: DatasetParams,
    responses: { 202: json(z.object({ job: z.number().int() }), "The queued fixity job") },
    handler: (c, { params }) => {
      const ds = fixityRepo(c.var.ctx.db).dataset(params.id);
      if (!ds || ds.state !== "present") throw notFound(`No dataset ${params.id} on the share`);
      return c.json({ job: queueFixity(queueFor(c.var.ctx), ds.id, ds.generation, true) }, 202);
    },
  }),
  route({
    method: "get",
    path: "/api/v1/fixity",
    access: "admin",
    group: "fixity",
    summary: "Files whose content changed while size and mtime did not, across all datasets, newest first (admins)",
    query: z.object({ limit: queryInt(1, 10000, 1000) }),
    responses: {
      200: json(z.object({ total: z.number().int(), items: z.array(Mismatch.extend({ datasetId: z.number().int(), datasetPath: z.string() })) }), "Mismatches"),
    },
    handler: (c, { query }) => c.json(allMismatches(c.var.ctx, query.limit)),
  }),
  route({
    method: "get",
    path: "/fixity",
    access: "admin",
    summary: "The fixity page (admins)",
    responses: { 200: html() },
    handler: (c) => c.html(<FixityPage {...allMismatches(c.var.ctx, 1000)} {...pageProps(c)} />),
  }),
];
