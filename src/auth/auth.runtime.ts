import type { AppContext } from "../context.ts";
import type { AccountBackend } from "./backend.ts";
import { openNegotiator, type Negotiator } from "./gss.ts";
import { localBackend } from "./local.backend.ts";
import { pamBackend } from "./pam.backend.ts";

/** Settings of the auth feature that are not user configuration (tests and benchmarks change them). */
export interface AuthOptions {
  /** Every failed sign-in is answered no sooner than this after it started, known account or not. */
  failureFloorMs: number;
  pamService: string;
  pamConfdir?: string;
  pamWorkers: number;
  smbConf?: string;
}

/** What the auth feature keeps per running app: the backend (with its PAM threads) and the Kerberos acceptor. */
export interface AuthRuntime {
  options: AuthOptions;
  backend: AccountBackend;
  negotiator: Negotiator | null;
}

/** Production defaults: the "mata" PAM service in /etc/pam.d and a one-second failure floor. */
export const DEFAULT_AUTH_OPTIONS: AuthOptions = { failureFloorMs: 1000, pamService: "mata", pamWorkers: 2 };

const runtimes = new WeakMap<AppContext, AuthRuntime>();

/** Builds the runtime for a context with these options; call before the first request to override defaults. */
export function configureAuth(ctx: AppContext, options: Partial<AuthOptions> = {}): AuthRuntime {
  closeAuth(ctx);
  const o = { ...DEFAULT_AUTH_OPTIONS, ...options };
  const backend =
    ctx.config.auth === "pam"
      ? pamBackend({ service: o.pamService, confdir: o.pamConfdir, adminGroup: ctx.config.adminGroup, workers: o.pamWorkers, smbConf: o.smbConf })
      : localBackend(ctx.db);
  const negotiator = ctx.config.kerberos ? openNegotiator(ctx.config.kerberos.keytab, ctx.config.kerberos.service) : null;
  const rt = { options: o, backend, negotiator };
  runtimes.set(ctx, rt);
  return rt;
}

/** The runtime of a context, built with defaults on first use. */
export function authRuntime(ctx: AppContext): AuthRuntime {
  return runtimes.get(ctx) ?? configureAuth(ctx);
}

/** Stops the PAM threads of a context (the server calls it on shutdown). */
export function closeAuth(ctx: AppContext): void {
  runtimes.get(ctx)?.backend.close();
  runtimes.delete(ctx);
}
