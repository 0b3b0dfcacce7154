import type { Database } from "bun:sqlite";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";

/** What every feature needs at run time, built once by `serve`/`scan` and by tests. */
export interface AppContext {
  config: Config;
  db: Database;
  clock: Clock;
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
  };
};
