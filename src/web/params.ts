import { badRequest } from "../errors.ts";

/** Reads an optional whole-number query parameter within bounds, or fails with a 400 naming it. */
export function intParam(value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === "") return def;
  if (!/^\d+$/.test(value)) throw badRequest(`${name} must be a whole number, got ${JSON.stringify(value.slice(0, 40))}`);
  const n = Number(value);
  if (n < min || n > max) throw badRequest(`${name} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** Reads a dataset id from the path, or fails with a 400. */
export function idParam(value: string | undefined, name = "id"): number {
  if (!value || !/^\d{1,15}$/.test(value)) throw badRequest(`${name} must be a positive whole number`);
  return Number(value);
}

/** Picks one of the allowed values (undefined when absent), or fails with a 400 listing them. */
export function enumParam<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === "") return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw badRequest(`${name} must be one of ${allowed.join(", ")}`);
  return value as T;
}
