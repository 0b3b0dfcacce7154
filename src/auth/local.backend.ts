import type { Database } from "bun:sqlite";
import { accountsRepo } from "./auth.repo.ts";
import type { AccountBackend, VerifyResult } from "./backend.ts";
import { hashPassword, verifyPassword } from "./password.ts";

/** Accounts in SQLite with argon2id hashes: the embedded default that needs nothing from the system. */
export function localBackend(db: Database): AccountBackend {
  const accounts = accountsRepo(db);
  // An unknown name is checked against a real hash of a random secret, so it costs as much as a known one.
  const dummy = hashPassword(crypto.randomUUID());
  return {
    kind: "local",
    async verify(name, password): Promise<VerifyResult> {
      const row = accounts.get(name);
      const hash = row?.password_hash ?? (await dummy);
      const ok = await verifyPassword(password, hash);
      if (!ok || !row || !row.password_hash || row.disabled) return { ok: false, reason: "bad_credentials" };
      return { ok: true, principal: { name: row.name, isAdmin: row.is_admin === 1, groups: [] } };
    },
    lookup(name) {
      const row = accounts.get(name);
      if (!row || row.disabled) return null;
      return { name: row.name, isAdmin: row.is_admin === 1, groups: [] };
    },
    async changePassword(name, password) {
      if (!accounts.setPasswordHash(name, await hashPassword(password))) throw new Error(`no local account ${name}`);
    },
    close() {},
  };
}
