// The OpenAPI 3.1 document, generated from the route declarations (src/web/route.ts) by zod-to-openapi.
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { DATASET_LEVELS, levelOf } from "./access-levels.ts";
import { VERSION } from "../version.ts";
import type { Route } from "./route.ts";
import { ErrorBody } from "./schemas.ts";

/** Turns Hono's `:id`, `:hash{re}` and a trailing `*` into OpenAPI's `{id}`, `{hash}` and `{path}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{[^/]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");
}

// The order and wording of the route groups on /api/docs.
const GROUPS: [string, string][] = [
  ["datasets", "Datasets: list, detail, title and description"],
  ["files", "A dataset's files: listing (everyone signed in) and content (readers)"],
  ["tags", "Tag trees, the tag dictionary, the tag cloud and tag pages"],
  ["relations", "Parents, children and the relation network"],
  ["search", "Full-text and tag search"],
  ["access", "Owner, viewers and editors (also enforced on the share)"],
  ["previews", "Pyramids, thumbnails and meshes (readers)"],
  ["jobs", "Background jobs"],
  ["fixity", "Checksums of every file and content that changed under an unchanged size and time"],
  ["tokens", "API tokens for scripts"],
  ["meta", "Health and this document"],
];

const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });

/** The error answers a route can give, derived from its access rule and inputs. */
function errorResponses(r: Route): RouteConfig["responses"] {
  const level = levelOf(r.access);
  const out: RouteConfig["responses"] = {};
  if (r.params || r.query || r.body) out[400] = error("A parameter or the body is not valid; the message names the field");
  if (level !== "public") out[401] = error("Not signed in: send HTTP Basic credentials or an API token (Bearer)");
  if (level === "admin" || DATASET_LEVELS.has(level))
    out[403] = error(level === "admin" ? "Only admins may do this" : "The account lacks the needed permission on this dataset");
  if (DATASET_LEVELS.has(level) || r.params) out[404] = error("No such dataset (or other item named in the path)");
  if (r.body) out[413] = error("The body is over the size limit");
  if (r.body) out[415] = error("The body is not sent as JSON");
  return out;
}

function responses(r: Route): RouteConfig["responses"] {
  const out: RouteConfig["responses"] = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    out[status] = spec.json
      ? { description: spec.description, content: { "application/json": { schema: spec.json } } }
      : spec.type
        ? { description: spec.description, content: { [spec.type]: { schema: z.string() } } }
        : { description: spec.description };
  }
  return { ...errorResponses(r), ...out };
}

/** The document for every `/api/v1` route; pages and assets are declared the same way but not listed. */
export function openApiDocument(routes: readonly Route[]) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "basic", { type: "http", scheme: "basic", description: "An account of the configured backend (local or PAM)" });
  registry.registerComponent("securitySchemes", "token", {
    type: "http",
    scheme: "bearer",
    description: "An API token from POST /api/v1/tokens or the account page",
  });
  registry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "mata_session",
    description: "The browser's session (state-changing requests also need X-CSRF-Token)",
  });
  for (const r of routes) {
    if (!r.path.startsWith("/api/v1/")) continue;
    const path = openApiPath(r.path);
    // A trailing wildcard is a file path inside the dataset; the handler reads it from the URL.
    const params = path.endsWith("/{path}")
      ? (r.params ?? z.object({})).extend({ path: z.string().meta({ description: "A path inside the dataset, `/`-separated, each segment percent-encoded" }) })
      : r.params;
    registry.registerPath({
      method: r.method,
      path,
      summary: r.summary,
      description: r.description,
      tags: r.group ? [r.group] : undefined,
      security: levelOf(r.access) === "public" ? [] : undefined,
      "x-access": levelOf(r.access),
      request: {
        params: params as never,
        query: r.query as never,
        body: r.body ? { required: true, content: { "application/json": { schema: r.body } } } : undefined,
      },
      responses: responses(r),
    } as RouteConfig);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Mata",
      version: VERSION,
      description: "Research-image curation on a plain SMB share. Errors are `{ error: { code, message } }`. Guide with curl and Python examples: docs/api.md.",
    },
    security: [{ basic: [] }, { token: [] }, { session: [] }],
    tags: GROUPS.map(([name, description]) => ({ name, description })),
  });
}
