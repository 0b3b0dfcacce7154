import { z } from "zod";
import { clientAddress } from "../web/request-info.ts";
import { pageProps } from "../web/page-props.ts";
import { route } from "../web/route.ts";
import { html, json, queryInt, queryText } from "../web/schemas.ts";
import { AuditPage } from "../../templates/audit/audit.tsx";
import { auditFilters, exportAuditCsv, listAudit } from "./audit.service.ts";

const Filters = z.object({
  dataset: queryInt(1, Number.MAX_SAFE_INTEGER, 0, "Only this dataset's entries").transform((v) => v || undefined),
  actor: queryText(256, "Only what this account did (or, for refused sign-ins, the name tried)"),
  action: queryText(64, 'An action ("file.download") or a group of them ("signin" takes in "signin.failed")'),
  from: queryText(40, "From this time on: ISO 8601 (a date alone is its first moment, UTC) or ms since the epoch"),
  to: queryText(40, "Up to this time: ISO 8601 (a date alone takes in that whole day, UTC) or ms since the epoch"),
});

const Page = Filters.extend({
  before: queryInt(0, Number.MAX_SAFE_INTEGER, 0, "The `next` of the previous answer: entries older than it").transform((v) => v || undefined),
  limit: queryInt(1, 1000, 100),
});

const AuditItem = z
  .object({
    id: z.number().int(),
    at: z.number().meta({ description: "When (ms since the epoch)" }),
    actor: z.string().meta({ description: "The account (for a refused sign-in, the name tried)" }),
    action: z.string().meta({
      description:
        "metadata.edit, tags.edit, relations.edit, access.grants, access.owner, file.download, export.KIND, audit.export, signin, signin.failed, signin.blocked, signout, password.change, token.create, token.revoke",
    }),
    datasetId: z.number().int().nullable(),
    datasetPath: z.string().nullable().meta({ description: "The dataset's folder when it happened" }),
    target: z.string().nullable().meta({ description: "The file downloaded or written, or how a sign-in came (form, basic, negotiate, password)" }),
    before: z.unknown().meta({ description: "The values before a change (only those that changed)" }),
    after: z.unknown().meta({ description: "The values after it" }),
    address: z.string().nullable().meta({ description: "The client's address, where known" }),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "AuditEntry" });

/** The audit log: a dataset's history to its owner, everything to admins; JSON, CSV and a page. */
export const auditRoutes = [
  route({
    method: "get",
    path: "/api/v1/audit",
    access: "signed-in",
    group: "audit",
    summary: "Audit log entries, newest first: admins see all, others the history of the datasets they own and their own sign-ins",
    query: Page,
    responses: {
      200: json(
        z.object({ items: z.array(AuditItem), next: z.number().int().nullable().meta({ description: "Pass as `before` for older entries; null at the end" }) }),
        "A page of entries",
      ),
    },
    handler: (c, { query }) => c.json(listAudit(c.var.ctx, c.var.user, auditFilters(query), query.limit, query.before)),
  }),
  route({
    method: "get",
    path: "/api/v1/audit.csv",
    access: "signed-in",
    group: "audit",
    summary: "Every entry matching the filters as CSV (UTF-8, newest first); the export is itself recorded",
    query: Filters,
    responses: { 200: { description: "CSV: id, time_utc, actor, action, dataset_id, dataset_path, target, before, after, address, detail", type: "text/csv" } },
    handler: (c, { query }) => {
      const stream = exportAuditCsv(c.var.ctx, c.var.user, auditFilters(query), clientAddress(c));
      const stamp = new Date(c.var.ctx.clock.now()).toISOString().slice(0, 10);
      return new Response(stream, {
        headers: {
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": `attachment; filename="mata-audit-${stamp}${query.dataset ? `-dataset-${query.dataset}` : ""}.csv"`,
          "Cache-Control": "no-store",
        },
      });
    },
  }),
  route({
    method: "get",
    path: "/audit",
    access: "signed-in",
    summary: "The audit log page, with filters and a CSV download",
    query: Page,
    responses: { 200: html() },
    handler: (c, { query }) => {
      const filters = auditFilters(query);
      return c.html(<AuditPage query={query} {...listAudit(c.var.ctx, c.var.user, filters, query.limit, query.before)} {...pageProps(c)} />);
    },
  }),
];
