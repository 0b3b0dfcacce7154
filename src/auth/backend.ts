import type { Principal } from "../context.ts";

/** Why a password check failed; only shown to someone who gave the right password for the last two. */
export type VerifyFailure = "bad_credentials" | "account_expired" | "password_expired";

/** The answer of a password check. */
export type VerifyResult = { ok: true; principal: Principal } | { ok: false; reason: VerifyFailure };

/**
 * Where accounts live (the built-in SQLite store or the system through PAM); everything else in
 * auth (sessions, tokens, Kerberos, throttling) works the same over either.
 */
export interface AccountBackend {
  readonly kind: "local" | "pam";
  /** Checks a password; the same cost for unknown names and wrong passwords is the backend's job. */
  verify(name: string, password: string, rhost?: string): Promise<VerifyResult>;
  /** The current principal for a name already authenticated another way (token, Kerberos), or null. */
  lookup(name: string): Principal | null;
  /** Sets a new password (the caller checked the old one). */
  changePassword(name: string, password: string): Promise<void>;
  /** Frees threads and caches. */
  close(): void;
}

/** Passwords the system tools and forms accept: not empty, no control characters that break stdin protocols. */
export function checkNewPassword(password: string): string | null {
  if (password.length < 8) return "The password must have at least 8 characters";
  if (password.length > 1024) return "The password must have at most 1024 characters";
  if (/[\0\r\n]/.test(password)) return "The password must not contain line breaks or NUL characters";
  return null;
}
