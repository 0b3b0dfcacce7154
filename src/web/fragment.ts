import { z } from "zod";
import { AppError } from "../errors.ts";

/** Runs a change for an htmx fragment; a refusal (4xx) is rendered into the fragment by `onError`, not swapped away. */
export async function attempt<T>(fn: () => T | Promise<T>, onError: (e: AppError) => Response | Promise<Response>): Promise<T | Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError && e.status < 500) return onError(e);
    throw e;
  }
}

/** The status a refused fragment is answered with (static/tags.js swaps 400, 409 and 413 in like a success). */
export function fragmentStatus(e: AppError): 400 | 409 | 413 {
  return e.status === 409 || e.status === 413 ? e.status : 400;
}

/** A text field of an HTML form (absent is undefined; each page decides what empty means). */
export const formText = (max = 1_000_000) =>
  z
    .string({ error: "must be a single text field" })
    .max(max, { error: `is longer than ${max.toLocaleString("en-US")} characters` })
    .optional();

/** The version a form was rendered at; blank is "none". */
export const formVersion = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z.coerce.number({ error: "must be a whole number from 1" }).int().min(1, { error: "must be a whole number from 1" }).optional(),
);
