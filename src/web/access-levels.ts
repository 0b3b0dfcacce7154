// The access levels a route declaration names (src/web/route.ts); src/access turns them into checks.
import type { AppContext } from "../context.ts";

/**
 * What a request needs, weakest first: `public` (no account: health, login, static), `signed-in`
 * (lists, titles, folder listings, search), `read` (file content, previews, tiles, downloads),
 * `edit` (metadata), `manage` (grants: owner and admins), `admin` (admins only).
 */
export type Level = "public" | "signed-in" | "read" | "edit" | "manage" | "admin";

/** A rule: the level, and for dataset levels how the dataset is found (default: the `:id` path param is its id). */
export type Rule = Level | { level: Level; datasetParam?: string; resolve?: (ctx: AppContext, value: string) => number | undefined };

/** The level of a rule. */
export function levelOf(rule: Rule): Level {
  return typeof rule === "string" ? rule : rule.level;
}

/** Levels that concern one dataset and so need its id from the path. */
export const DATASET_LEVELS: ReadonlySet<Level> = new Set(["read", "edit", "manage"]);
