// The access levels a route declaration names (src/web/route.ts); src/access turns them into checks.
import type { AppContext } from "../context.ts";

/**
 * What a request needs, weakest first: `public` (no account: health, login, static), `signed-in`
 * (lists, titles, folder listings, search), `read` (file content, previews, tiles, downloads),
 * `edit` (metadata), `manage` (grants: owner and admins), `admin` (admins only).
 */
export type Level = "public" | "signed-in" | "read" | "edit" | "manage" | "admin";

/**
 * A rule: the level, and for dataset levels how the dataset is found (default: the `:id` path param is its id).
 * `token` names a shared secret that also opens the route without an account (a Prometheus scraper's bearer token,
 * config `metrics_token`); unset or empty, only the level applies.
 */
export type Rule =
  | Level
  | {
      level: Level;
      datasetParam?: string;
      resolve?: (ctx: AppContext, value: string) => number | undefined;
      token?: (ctx: AppContext) => string | undefined;
    };

/** The level of a rule. */
export function levelOf(rule: Rule): Level {
  return typeof rule === "string" ? rule : rule.level;
}

/** Levels that concern one dataset and so need its id from the path. */
export const DATASET_LEVELS: ReadonlySet<Level> = new Set(["read", "edit", "manage"]);

/** The shared-secret source of a rule, if it has one. */
export function tokenOf(rule: Rule): ((ctx: AppContext) => string | undefined) | undefined {
  return typeof rule === "object" ? rule.token : undefined;
}
