// What a credential (a session cookie, an API token) resolves to, kept briefly: a viewer asks for dozens of tiles per view,
// and each sign-in lookup costs a SHA-256 and a SQLite read. Writes of this instance (sign-out, password change, revoke)
// clear it at once; the one-second lifetime bounds how long a change written by another process (`mata user passwd`)
// goes unnoticed.
export const CREDENTIAL_CACHE_MS = 1000;

// Past this many live credentials the cache starts over rather than grow (one entry per browser or script).
const MAX_ENTRIES = 10_000;

/** A map from a credential's secret to what it resolved to, each entry valid until the time it was stored with. */
export class CredentialCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  /** The value stored for a secret, while it is still valid at `now`. */
  get(secret: string, now: number): T | undefined {
    const hit = this.entries.get(secret);
    if (!hit) return undefined;
    if (hit.until > now) return hit.value;
    this.entries.delete(secret);
    return undefined;
  }

  /** Keeps a value until `until`, and never longer than the cache's lifetime from `now`. */
  set(secret: string, value: T, now: number, until: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(secret, { value, until: Math.min(until, now + CREDENTIAL_CACHE_MS) });
  }

  /** Forgets everything, after a write that may end any cached credential. */
  clear(): void {
    this.entries.clear();
  }
}
