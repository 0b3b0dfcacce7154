import type { Database } from "bun:sqlite";
import type { Clock } from "./clock.ts";
import { log } from "./log.ts";
import type { Config } from "./config.ts";
import type { RequestAuth } from "./auth/request.ts";
import type { Services } from "./services.ts";
import type { Route } from "./web/route.ts";

/** What the sync engine reports after it committed a change to a dataset's files. */
export interface ContentChange {
  datasetId: number;
  /** The dataset folder, relative to the root. */
  path: string;
  /** The dataset's generation after the change. */
  generation: number;
  /** Files (relative to the dataset folder) added or modified. */
  changed: string[];
  /** Files (relative to the dataset folder) removed. */
  removed: string[];
}

/** A dataset folder the reconcile looked at (present, even if unchanged): a chance to repair drift such as ACLs. */
export interface DatasetSeen {
  datasetId: number;
  path: string;
  /** The owners and newest inode change time of every folder and file the walk met (the sidecar left out). */
  walk: { maxCtimeMs: number; uids: Set<number> };
}

/** Listeners other features attach to the sync engine without it knowing them. */
export interface AppHooks {
  contentChanged: ((change: ContentChange) => void)[];
  datasetSeen: ((seen: DatasetSeen) => void)[];
  /** A dataset's title, description, tags or parents were committed (the metadata mirror listens). */
  metadataChanged: ((datasetId: number) => void)[];
}

/** What every feature needs at run time, built once by `createContext` (`serve`, `scan`, tests). */
export interface AppContext {
  config: Config;
  db: Database;
  clock: Clock;
  hooks: AppHooks;
  /** Every feature's per-instance state (queue, caches, auth runtime), built with the context. */
  services: Services;
}

/** Empty hooks for a new context. */
export function newHooks(): AppHooks {
  return { contentChanged: [], datasetSeen: [], metadataChanged: [] };
}

/** Tells the listeners that a dataset's metadata was committed; a failing listener never undoes the change. */
export function metadataChanged(ctx: AppContext, datasetId: number): void {
  for (const listener of ctx.hooks.metadataChanged) {
    try {
      listener(datasetId);
    } catch (e) {
      log.error("metadataChanged listener failed", { datasetId, error: String(e) });
    }
  }
}

/** The signed-in account a request acts for. */
export interface Principal {
  name: string;
  isAdmin: boolean;
  /** Unix groups (PAM) or none (local accounts); grants may name groups. */
  groups: string[];
}

/** Hono's typed context variables shared by all routes. */
export type AppEnv = {
  Variables: {
    ctx: AppContext;
    user: Principal;
    /** How the request was authenticated (set by the auth middleware). */
    auth: RequestAuth;
    /** The declared route answering the request (set ahead of sign-in by `markRoutes`), for its metrics label. */
    route: Route;
  };
};
