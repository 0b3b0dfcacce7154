import type { Context } from "hono";
import { badRequest, tooLarge } from "../errors.ts";

// A whole tag tree at the limits (2,000 tags of 4 KB values) fits well inside this.
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** Reads a JSON object body, refusing what is not one (400) or too big (413) with a message saying so. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const length = Number(c.req.header("Content-Length") ?? 0);
  if (length > MAX_JSON_BYTES) throw tooLarge(`The request body is ${length.toLocaleString("en-US")} bytes; the limit is ${MAX_JSON_BYTES.toLocaleString("en-US")}`);
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES) throw tooLarge(`The request body is over the limit of ${MAX_JSON_BYTES.toLocaleString("en-US")} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badRequest("The request body must be JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest("The request body must be a JSON object");
  return v as Record<string, unknown>;
}

/** Reads an optional version number from a body or form field; undefined when absent. */
export function versionField(v: unknown, name = "version"): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "string" && /^\d{1,15}$/.test(v) ? Number(v) : v;
  if (!Number.isInteger(n) || (n as number) < 1) throw badRequest(`${name} must be a whole number from 1`);
  return n as number;
}
