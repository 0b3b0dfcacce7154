// The one declarative table of what every route needs. The enforcement point reads nothing else, and
// the route-matrix test fails for any route the app has that is missing here.
import type { AppContext } from "../context.ts";
import { accessRepo } from "./access.repo.ts";

/**
 * What a request needs, weakest first: `public` (no account: health, login, static), `signed-in`
 * (lists, titles, folder listings, search), `read` (file content, previews, tiles, downloads),
 * `edit` (metadata), `manage` (grants: owner and admins), `admin` (admins only).
 */
export type Level = "public" | "signed-in" | "read" | "edit" | "manage" | "admin";

/** A rule: the level, and for dataset levels where the dataset id comes from (default: the `:id` param). */
export type Rule = Level | { level: Level; datasetParam?: string; resolve?: (ctx: AppContext, value: string) => number | undefined };

const DATASET = "/api/v1/datasets/:id";
/** A job is cancelled or retried by those who may edit the dataset it works for (admins for share-wide jobs). */
const JOB: Rule = { level: "edit", resolve: (ctx, v) => (/^\d{1,15}$/.test(v) ? accessRepo(ctx.db).jobDatasetId(Number(v)) : undefined) };
const PAGE = "/datasets/:id";

/** Keyed by `METHOD path` exactly as the route was registered with Hono. */
export const ROUTE_RULES: Record<string, Rule> = {
  // Open to everyone (mounted before authenticate).
  "GET /api/v1/health": "public",
  "GET /static/*": "public",
  "GET /login": "public",
  "POST /login": "public",
  "POST /logout": "signed-in",
  "GET /logout": "signed-in",

  // Lists, titles and folder contents: every signed-in account.
  "GET /": "signed-in",
  "GET /api/v1/openapi.json": "signed-in",
  "GET /api/v1/datasets": "signed-in",
  [`GET ${DATASET}`]: "signed-in",
  [`GET ${DATASET}/files`]: "signed-in",
  [`GET ${DATASET}/graph`]: "signed-in",
  "GET /api/v1/search": "signed-in",
  "GET /api/v1/tags/cloud": "signed-in",
  "GET /api/v1/tags/suggest": "signed-in",
  "GET /datasets": "signed-in",
  [`GET ${PAGE}`]: "signed-in",
  [`GET ${PAGE}/files`]: "signed-in",
  [`GET ${PAGE}/graph`]: "signed-in",
  "GET /search": "signed-in",
  "GET /tags": "signed-in",
  "GET /graph": "signed-in",
  [`GET ${PAGE}/sharing`]: "signed-in",
  [`GET ${PAGE}/describe`]: "signed-in",
  [`GET ${PAGE}/tags/panel`]: "signed-in",
  "GET /api/v1/access/people": "signed-in",
  [`GET ${DATASET}/tags`]: "signed-in",
  [`GET ${DATASET}/relatives`]: "signed-in",
  "GET /api/v1/relations/candidates": "signed-in",
  "GET /search/suggest": "signed-in",
  "GET /tags/by": "signed-in",
  "GET /api/v1/tags/:hash{[0-9a-f]{64}}": "signed-in",
  "GET /tags/:hash{[0-9a-f]{64}}": "signed-in",

  // One's own account (the handlers act on the signed-in account only).
  "GET /api/v1/jobs": "signed-in",
  "GET /jobs": "signed-in",
  "GET /jobs/table": "signed-in",
  "GET /account": "signed-in",
  "POST /account/tokens": "signed-in",
  "POST /account/tokens/:id/revoke": "signed-in",
  "POST /account/password": "signed-in",
  "GET /api/v1/tokens": "signed-in",
  "POST /api/v1/tokens": "signed-in",
  "DELETE /api/v1/tokens/:id": "signed-in",

  // Content: owner, editors, viewers (and admins).
  [`GET ${DATASET}/files/*`]: "read",
  [`GET ${DATASET}/previews`]: "read",
  [`GET ${DATASET}/previews/*`]: "read",
  [`GET ${DATASET}/access`]: "read",
  [`GET ${PAGE}/files/*`]: "read",
  [`GET ${PAGE}/previews/*`]: "read",
  [`GET ${PAGE}/viewer`]: "read",

  // Metadata: editors.
  [`PATCH ${DATASET}`]: "edit",
  [`PUT ${DATASET}/tags`]: "edit",
  [`POST ${DATASET}/tags/import-from-parents`]: "edit",
  [`PUT ${DATASET}/parents`]: "edit",
  [`POST ${PAGE}`]: "edit",
  [`POST ${PAGE}/tags`]: "edit",
  [`POST ${PAGE}/parents`]: "edit",
  [`GET ${PAGE}/describe/edit`]: "edit",
  [`PATCH ${PAGE}/describe`]: "edit",
  [`POST ${PAGE}/tags/op`]: "edit",
  [`POST ${PAGE}/tags/add`]: "edit",
  [`POST ${PAGE}/tags/edit`]: "edit",
  [`POST ${PAGE}/tags/import`]: "edit",
  [`POST ${PAGE}/parents/add`]: "edit",
  [`POST ${PAGE}/parents/remove`]: "edit",

  "POST /api/v1/jobs/:id/cancel": JOB,
  "POST /api/v1/jobs/:id/retry": JOB,
  "POST /jobs/:id/cancel": JOB,
  "POST /jobs/:id/retry": JOB,

  // Grants: owner and admins.
  [`PUT ${DATASET}/access`]: "manage",
  [`POST ${PAGE}/sharing`]: "manage",

  // Admins only.
  [`PUT ${DATASET}/owner`]: "admin",
};

/** The level of a rule. */
export function levelOf(rule: Rule): Level {
  return typeof rule === "string" ? rule : rule.level;
}

/** Levels that concern one dataset and so need its id from the path. */
export const DATASET_LEVELS: ReadonlySet<Level> = new Set(["read", "edit", "manage"]);
