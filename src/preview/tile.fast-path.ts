// The tile route's own entrance. A viewer asks for dozens of tiles per view, and through the router and its middleware
// each cost ~50 us of a serving thread, several times what Bun's socket and send cost (~8 us). This answers the common
// case (a GET of a tile with a session cookie or an API token, by someone who may read the dataset) with the very checks
// and answer of the declared route, and hands everything else to the app, which answers it in full: errors, refusals,
// sign-in challenges and the rare URL or header this does not recognise.
import type { Server } from "bun";
import type { AppContext, Principal } from "../context.ts";
import { atLeast, datasetAccess, roleOf } from "../access/access.cache.ts";
import { SESSION_COOKIE } from "../auth/request.ts";
import { findSession } from "../auth/session.service.ts";
import { principalForToken } from "../auth/token.service.ts";
import { serveTile, TILE_PATH } from "./preview.files.ts";

/** A Bun.serve request handler. */
export type Fetch = (req: Request, server: Server<undefined>) => Response | Promise<Response>;

const PREFIX = "/api/v1/datasets/";
const INFIX = "/previews/";
/** The declared route the tiles belong to, under which the metrics count them. */
const ROUTE = `${PREFIX}:id${INFIX}*`;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{1,128}$/;

/** What a serving thread other than the main one changes about the fast path. */
export interface FastPathOptions {
  /** Answer requests with an API token here (false: the app answers them; a web thread keeps no account backend). */
  tokens?: boolean;
  /** Called first on every request, to drop caches another thread or process made stale (src/services.ts). */
  refresh?: () => void;
}

/** `app` behind the tile fast path: what `mata serve` hands to Bun.serve. */
export function withTileFastPath(ctx: AppContext, app: Fetch, opts: FastPathOptions = {}): Fetch {
  const metrics = ctx.services.metrics;
  const tokens = opts.tokens ?? true;
  return (req, server) => {
    opts.refresh?.();
    if (req.method !== "GET") return app(req, server);
    const url = req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    if (!url.startsWith(PREFIX, start)) return app(req, server);
    const infix = url.indexOf(INFIX, start + PREFIX.length);
    const idText = infix < 0 ? "" : url.slice(start + PREFIX.length, infix);
    const tile = infix < 0 ? null : TILE_PATH.exec(url.slice(infix + INFIX.length));
    if (!tile || !/^\d{1,15}$/.test(idText)) return app(req, server);
    const t0 = performance.now();
    const user = principalOf(ctx, req, tokens);
    if (!user) return app(req, server);
    const id = Number(idText);
    if (!user.isAdmin) {
      const access = datasetAccess(ctx, id);
      if (!access || !atLeast(roleOf(access, user), "viewer")) return app(req, server);
    }
    let res: Response;
    try {
      res = serveTile(ctx, id, Number(tile[1]), tile[2]!, tile[3]!, req);
    } catch {
      return app(req, server);
    }
    metrics.observeRequest(ROUTE, "GET", res.status, (performance.now() - t0) / 1000);
    return res;
  };
}

/** The signed-in account of a request with a Bearer token or one plain session cookie, as `authenticate` finds it; else null. */
function principalOf(ctx: AppContext, req: Request, tokens: boolean): Principal | null {
  const authorization = req.headers.get("Authorization");
  if (authorization !== null) {
    const space = authorization.indexOf(" ");
    if (!tokens || space < 0 || authorization.slice(0, space).toLowerCase() !== "bearer") return null;
    return principalForToken(ctx, authorization.slice(space + 1).trim());
  }
  const cookies = req.headers.get("Cookie");
  if (cookies === null) return null;
  let value: string | null = null;
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    // Two session cookies (a path-scoped one beside ours): the app decides.
    if (value !== null) return null;
    value = part.slice(eq + 1).trim();
  }
  return value !== null && COOKIE_VALUE.test(value) ? (findSession(ctx, value)?.principal ?? null) : null;
}
