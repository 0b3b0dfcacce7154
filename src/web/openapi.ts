import type { Hono } from "hono";
import { VERSION } from "../version.ts";

type Op = { summary: string; params?: string[]; body?: string; auth?: false };

/** Summaries of the documented API; a route the app has but this table lacks is still listed, marked undocumented. */
const DOCS: Record<string, Op> = {
  "GET /api/v1/health": { summary: "Liveness and version: { ok, version }", auth: false },
  "GET /api/v1/openapi.json": { summary: "This document" },
  "GET /api/v1/datasets": { summary: "List datasets: { items, total }", params: ["q", "tag (KEY=VALUE or KEY:, repeatable)", "owner", "path (exact dataset folder)", "state", "sort", "order", "limit", "offset"] },
  "GET /api/v1/datasets/{id}": { summary: "One dataset with parents, children, tags, file totals and preview state" },
  "PATCH /api/v1/datasets/{id}": { summary: "Edit title and description; 409 when based on an outdated version", body: "{ title?, description?, version? }" },
  "PUT /api/v1/datasets/{id}/tags": { summary: "Replace the whole ordered tag tree; 409 when outdated", body: "{ tags: [{ key, value, children }], version? }" },
  "POST /api/v1/datasets/{id}/tags/import-from-parents": { summary: "Copy the parents' tags whose keys this dataset lacks" },
  "PUT /api/v1/datasets/{id}/parents": { summary: "Set the datasets this one was derived from; 409 on a cycle", body: "{ parents: [id] }" },
  "PUT /api/v1/datasets/{id}/access": { summary: "Set viewers and editors (owner and admins only); a unix group is \"@name\"", body: "{ viewers: [name], editors: [name] }" },
  "GET /api/v1/datasets/{id}/files": { summary: "File listing: paths, sizes, times (every signed-in account)", params: ["limit", "offset"] },
  "GET /api/v1/datasets/{id}/files/{path}": { summary: "File content with HTTP Range (read permission)" },
  "GET /api/v1/datasets/{id}/graph": { summary: "Relation network: { nodes, edges }" },
  "GET /api/v1/search": { summary: "Search titles, descriptions and tags: { items: [{ id, title, matches }] }", params: ["q"] },
  "GET /api/v1/tags/cloud": { summary: "Every distinct tag with counts and weights" },
  "GET /api/v1/tags/suggest": { summary: "Ranked key or value suggestions", params: ["prefix", "key"] },
  "GET /api/v1/tags/{hash}": { summary: "Every dataset carrying an equal tag subtree (children order ignored)" },
  "GET /api/v1/datasets/{id}/tags": { summary: "The ordered tag tree and its version" },
  "GET /api/v1/datasets/{id}/relatives": { summary: "Parents, children and siblings" },
  "GET /api/v1/relations/candidates": { summary: "Datasets matching a title or path prefix, for the parent picker", params: ["q"] },
  "GET /api/v1/datasets/{id}/access": { summary: "Owner, viewers and editors (unix groups as \"@name\")" },
  "PUT /api/v1/datasets/{id}/owner": { summary: "Reassign the owner (admins only)", body: "{ owner }" },
  "GET /api/v1/access/people": { summary: "Account and group names for the sharing picker", params: ["q"] },
  "GET /api/v1/datasets/{id}/previews": { summary: "The dataset's previews: kind, state, size, spacing, window, tile and thumbnail URLs" },
  "GET /api/v1/datasets/{id}/previews/{path}": { summary: "Preview files: precomputed info, XY/XZ/YZ tiles, thumbnail (read permission; cacheable)" },
  "GET /api/v1/tokens": { summary: "The signed-in account's API tokens (labels and prefixes, never secrets)" },
  "POST /api/v1/tokens": { summary: "Create an API token; the secret is in this answer only: { id, label, secret }", body: "{ label }" },
  "DELETE /api/v1/tokens/{id}": { summary: "Revoke one of the signed-in account's tokens" },
  "GET /api/v1/jobs": { summary: "Background jobs with state, progress and ETA (admins)" },
  "POST /api/v1/jobs/{id}/cancel": { summary: "Cancel a queued or running job (admins)" },
  "POST /api/v1/jobs/{id}/retry": { summary: "Queue a failed or cancelled job again (admins)" },
};

/** Turns Hono's `:id` and `*` into OpenAPI's `{id}` and `{path}`. */
function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{[^/]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");
}

/** The OpenAPI 3.1 document for every `/api/v1` route the app really has. */
export function openApiDocument(app: Hono<any>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of app.routes) {
    if (!r.path.startsWith("/api/v1/") || r.method === "ALL") continue;
    const p = openApiPath(r.path);
    const key = `${r.method} ${p}`;
    const doc = DOCS[key];
    const params = [...p.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: m[1] === "id" ? "integer" : "string" } }));
    for (const q of doc?.params ?? []) params.push({ name: q.split(" ")[0]!, in: "query", required: false, schema: { type: "string" }, description: q } as never);
    paths[p] ??= {};
    paths[p]![r.method.toLowerCase()] = {
      summary: doc?.summary ?? "(undocumented)",
      parameters: params.length ? params : undefined,
      requestBody: doc?.body ? { description: doc.body, content: { "application/json": {} } } : undefined,
      security: doc?.auth === false ? [] : undefined,
      responses: { default: { description: "JSON; errors are { error: { code, message } }" } },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Mata", version: VERSION },
    components: { securitySchemes: { basic: { type: "http", scheme: "basic" }, token: { type: "http", scheme: "bearer" }, session: { type: "apiKey", in: "cookie", name: "mata_session" } } },
    security: [{ basic: [] }, { token: [] }, { session: [] }],
    paths,
  };
}
