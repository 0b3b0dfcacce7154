// Schema pieces shared by route declarations: ids, bounded numbers and texts in the query string, and errors.
import { z } from "zod";

// An empty query field (`?limit=` from a form) means "not given", as browsers send every field of a form.
const blankIsAbsent = (v: unknown) => (v === "" ? undefined : v);
// Whole numbers arrive as plain digits: "1e3", " 4" or "0x10" are not ids or counts, though Number() reads them.
const digitsOnly = (v: unknown) => (typeof v === "string" && !/^\d{1,16}$/.test(v) ? Number.NaN : v);

const TYPE_WORDS: Record<string, string> = {
  array: "a list",
  string: "text",
  number: "a number",
  int: "a whole number",
  object: "an object",
  boolean: "true or false",
};

// Zod's messages, phrased to follow the field's name: "limit must be from 1 to 1000", "viewers must be a list".
z.config({
  customError: (issue) => {
    switch (issue.code) {
      case "invalid_type":
        return issue.input === undefined ? "is required" : `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
      case "too_big":
        return issue.origin === "string"
          ? `is longer than ${issue.maximum} characters`
          : issue.origin === "array"
            ? `may hold at most ${issue.maximum} items`
            : `must be at most ${issue.maximum}`;
      case "too_small":
        return issue.origin === "string"
          ? issue.minimum === 1
            ? "must not be empty"
            : `must be at least ${issue.minimum} characters`
          : issue.origin === "array"
            ? `must hold at least ${issue.minimum} items`
            : `must be at least ${issue.minimum}`;
      case "invalid_value":
        return `must be one of ${issue.values.map(String).join(", ")}`;
      case "unrecognized_keys":
        return `has unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
      case "invalid_format":
        return "is not in the expected form";
      default:
        return undefined;
    }
  },
});

/** A whole number in the query string, within bounds, with a default when absent or blank. */
export function queryInt(min: number, max: number, def: number, description?: string) {
  const inner = z
    .preprocess(
      digitsOnly,
      z.coerce
        .number({ error: "must be a whole number" })
        .int({ error: "must be a whole number" })
        .min(min, { error: `must be from ${min} to ${max}` })
        .max(max, { error: `must be from ${min} to ${max}` }),
    )
    .default(def);
  return z.preprocess(blankIsAbsent, description ? inner.meta({ description }) : inner);
}

/** One of the listed words, or undefined when absent or blank. */
export function queryEnum<const T extends readonly [string, ...string[]]>(values: T, description?: string) {
  const inner = z.enum(values, { error: `must be one of ${values.join(", ")}` }).optional();
  return z.preprocess(blankIsAbsent, description ? inner.meta({ description }) : inner);
}

/** A text of at most `max` characters (undefined when absent or blank). */
export function queryText(max: number, description?: string) {
  const inner = z
    .string()
    .max(max, { error: `is longer than ${max} characters` })
    .optional();
  return z.preprocess(blankIsAbsent, description ? inner.meta({ description }) : inner);
}

/** A parameter that may be given several times (`?tag=a&tag=b`), as a list of at most `maxItems`. */
export function queryList(item: z.ZodString, maxItems: number, description?: string) {
  const inner = z.array(item).max(maxItems, { error: `may be given at most ${maxItems} times` });
  return z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), description ? inner.meta({ description }) : inner);
}

/** `?name=1` as true; anything else (or nothing) as false. */
export function queryFlag(description: string) {
  return z.preprocess(blankIsAbsent, z.enum(["0", "1"], { error: "must be 0 or 1" }).optional().meta({ description })).transform((v) => v === "1");
}

/** A positive whole number id in the path. */
export const Id = z.preprocess(
  digitsOnly,
  z.coerce
    .number({ error: "must be a positive whole number" })
    .int({ error: "must be a positive whole number" })
    .min(1, { error: "must be a positive whole number" })
    .max(Number.MAX_SAFE_INTEGER, { error: "is too large" }),
);

/** The `:id` path param of a dataset. */
export const DatasetParams = z.object({ id: Id.meta({ description: "Dataset id" }) });

/** A version number a change is based on (optional: without it the change is applied to whatever is current). */
export const Version = z
  .number({ error: "must be a whole number from 1" })
  .int({ error: "must be a whole number from 1" })
  .min(1, { error: "must be a whole number from 1" });

/** Every error answer of the API. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "Machine-readable: bad_request, unauthorized, forbidden, not_found, conflict, too_large, ..." }),
      message: z.string().meta({ description: "What went wrong, in words a person can act on" }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "Error" });

/** An ISO 8601 time. */
export const Iso = z.string().meta({ description: "ISO 8601 time", example: "2026-12-04T16:21:17.000Z" });

/** A JSON answer with its schema. */
export const json = (schema: z.ZodType, description: string) => ({ description, json: schema });

/** An HTML page or htmx fragment. */
export const html = (description = "HTML page") => ({ description, type: "text/html" });
