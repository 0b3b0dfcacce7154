// Password hashing and secrets behind one wrapper, so parameters live in one place.
import { timingSafeEqual } from "node:crypto";

/** argon2id through Bun (runs on Bun's thread pool, so it does not block the event loop). */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Verifies against a stored hash; a malformed stored hash counts as a mismatch, never a crash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

/** A random secret for cookies, CSRF and API tokens: 256 bits, URL-safe. */
export function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** The form secrets are stored in: a stolen database then gives no usable cookie or token. */
export function sha256Hex(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
