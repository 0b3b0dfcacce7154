import type { AppContext, Principal } from "../context.ts";
import { CredentialCache } from "./credential.cache.ts";
import type { Session } from "./session.service.ts";
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

/** What the auth feature keeps per instance: its runtime (opened on first use, or by `serve` at start) and when expired rows were last swept. */
export interface AuthState {
  runtime: AuthRuntime | null;
  sessionsSweptAt: number;
  failuresSweptAt: number;
  /** Sign-in attempts whose password check is under way, per throttle key (`user:NAME`, `addr:ADDRESS`). */
  attemptsInFlight: Map<string, number>;
  /** Live sessions by cookie value, and token principals by secret, for a second at most (credential.cache.ts). */
  sessions: CredentialCache<Session>;
  tokens: CredentialCache<Principal>;
}

/** A fresh auth state for a new context: nothing opened, nothing swept. */
export function newAuthState(): AuthState {
  return {
    runtime: null,
    sessionsSweptAt: 0,
    failuresSweptAt: 0,
    attemptsInFlight: new Map(),
    sessions: new CredentialCache(),
    tokens: new CredentialCache(),
  };
}

/** Builds the runtime for a context with these options; call before the first request to override defaults. */
export function configureAuth(ctx: AppContext, options: Partial<AuthOptions> = {}): AuthRuntime {
  closeAuth(ctx);
  const o = { ...DEFAULT_AUTH_OPTIONS, pamService: ctx.config.pamService, pamConfdir: ctx.config.pamConfdir, ...options };
  const { privileged } = ctx.services;
  const backend =
    ctx.config.auth === "pam"
      ? pamBackend({
          service: o.pamService,
          confdir: o.pamConfdir,
          adminGroup: ctx.config.adminGroup,
          smbConf: o.smbConf,
          checker: privileged.pamChecker(Math.max(1, o.pamWorkers)),
          setPassword: (user, password, smbConf) => privileged.setPassword(user, password, smbConf),
        })
      : localBackend(ctx.db);
  const negotiator = ctx.config.kerberos ? openNegotiator(ctx.config.kerberos.keytab, ctx.config.kerberos.service) : null;
  const rt = { options: o, backend, negotiator };
  ctx.services.auth.runtime = rt;
  return rt;
}

/** The runtime of a context, built with defaults on first use. */
export function authRuntime(ctx: AppContext): AuthRuntime {
  return ctx.services.auth.runtime ?? configureAuth(ctx);
}

/** Stops the PAM threads of a context (the server calls it on shutdown). */
export function closeAuth(ctx: AppContext): void {
  ctx.services.auth.runtime?.backend.close();
  ctx.services.auth.runtime = null;
}
