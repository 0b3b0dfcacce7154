import { AppError, badRequest, tooLarge } from "../errors.ts";
import { MAX_DEPTH, MAX_KEY_LENGTH, MAX_TAGS, MAX_VALUE_LENGTH } from "./tag-limits.ts";
import type { TagNode } from "./tag.types.ts";

// Keys are names: no control characters at all. Values may hold tabs and line breaks, nothing else below U+0020.
const KEY_CONTROL = /[\u0000-\u001f\u007f]/;
const VALUE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Trims and checks one key, so every entry point (API, editor, import) refuses the same things the same way. */
export function cleanKey(raw: unknown, where = "a tag"): string {
  if (typeof raw !== "string") throw badRequest(`The key of ${where} must be text`);
  const key = raw.trim();
  if (key === "") throw badRequest(`The key of ${where} is empty: every tag needs a key that is not just spaces`);
  if (key.length > MAX_KEY_LENGTH) throw tooLarge(`The key of ${where} is ${fmt(key.length)} characters long; the limit is ${fmt(MAX_KEY_LENGTH)}`);
  if (KEY_CONTROL.test(key)) throw badRequest(`The key of ${where} contains a control character (such as a line break); keys must be plain text`);
  return key;
}

/** Trims and checks one value (empty is allowed: a tag may be a heading for its children). */
export function cleanValue(raw: unknown, key: string): string {
  if (raw === undefined || raw === null) return "";
  if (typeof raw !== "string") throw badRequest(`The value of tag "${key}" must be text`);
  const value = raw.trim();
  if (value.length > MAX_VALUE_LENGTH) {
    throw tooLarge(`The value of tag "${key}" is ${fmt(value.length)} characters long; the limit is ${fmt(MAX_VALUE_LENGTH)}`);
  }
  if (VALUE_CONTROL.test(value)) throw badRequest(`The value of tag "${key}" contains a control character`);
  return value;
}

/** Checks a whole tree against the limits; throws naming the first problem and where it is. */
export function checkLimits(tags: TagNode[]): void {
  let count = 0;
  const walk = (nodes: TagNode[], depth: number) => {
    for (const n of nodes) {
      if (depth > MAX_DEPTH) throw new AppError(400, `Tags nest at most ${MAX_DEPTH} levels deep; "${n.key}" would be at level ${depth}`, { code: "too_deep" });
      count++;
      if (count > MAX_TAGS) throw tooLarge(`A dataset may have at most ${fmt(MAX_TAGS)} tags; this change would give it more`);
      walk(n.children, depth + 1);
    }
  };
  walk(tags, 1);
}

/**
 * Turns untrusted JSON into a clean tag tree (keys and values trimmed), refusing bad shapes, empty keys,
 * oversized values, too many tags and too deep nesting with a message naming the problem.
 */
export function parseTagTree(input: unknown): TagNode[] {
  if (!Array.isArray(input)) throw badRequest("tags must be a list of { key, value, children } objects");
  let count = 0;
  const walk = (nodes: unknown[], depth: number, where: string): TagNode[] => {
    const out: TagNode[] = [];
    nodes.forEach((raw, i) => {
      const at = `${where}[${i}]`;
      if (!isRecord(raw)) throw badRequest(`${at} must be an object with key, value and children`);
      count++;
      if (count > MAX_TAGS) throw tooLarge(`A dataset may have at most ${fmt(MAX_TAGS)} tags; this tree has more`);
      const key = cleanKey(raw.key, `tag ${at}`);
      if (depth > MAX_DEPTH) throw new AppError(400, `Tags nest at most ${MAX_DEPTH} levels deep; "${key}" (${at}) is at level ${depth}`, { code: "too_deep" });
      const value = cleanValue(raw.value, key);
      const children = raw.children === undefined || raw.children === null ? [] : raw.children;
      if (!Array.isArray(children)) throw badRequest(`${at}.children must be a list`);
      out.push({ key, value, children: walk(children, depth + 1, `${at}.children`) });
    });
    return out;
  };
  return walk(input, 1, "tags");
}
