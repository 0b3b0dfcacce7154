import { badRequest } from "../errors.ts";
import type { TagFilter } from "./tag-filter.ts";

/** The longest query text accepted; longer ones are refused with a 400 rather than fed to the index. */
export const MAX_QUERY_LENGTH = 1000;

/** One thing the user asked to find: words in order (a phrase), words whose last one is a prefix, or raw text inside words. */
export interface Term {
  kind: "phrase" | "prefix" | "substring";
  /** What the user typed, for display. */
  text: string;
  /** Folded word tokens (phrase and prefix), the same words the full-text tokenizer sees. */
  tokens: string[];
}

/** A query split into text terms (all must match) and tag filters. */
export interface ParsedQuery {
  terms: Term[];
  tags: TagFilter[];
}

const WORD = /[\p{L}\p{N}]+/gu;
const ASCII_WORD = /[A-Za-z0-9]+/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** Folds a word the way the index tokenizer does (case and diacritics ignored), so counts agree with matches. */
export function fold(s: string): string {
  return NON_ASCII.test(s) ? s.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase() : s.toLowerCase();
}

/** The folded word tokens of a text, with where each sits in the original string (ASCII text takes a faster path). */
export function tokenize(text: string): { token: string; start: number; end: number }[] {
  const out: { token: string; start: number; end: number }[] = [];
  const ascii = !NON_ASCII.test(text);
  const re = ascii ? ASCII_WORD : WORD;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ token: ascii ? m[0].toLowerCase() : fold(m[0]), start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/**
 * Parses what a person typed: `"exact phrase"`, plain words (each must appear), `pre*` (prefix), `*sub*` (substring),
 * `key=value`, `key:value` and `key:` (tag filters, quotes allowed on either side). Nothing the user types is an
 * operator of the index language: every term is later quoted, so `OR`, `NEAR(`, `'; DROP` are just words.
 */
export function parseQuery(input: string): ParsedQuery {
  if (input.length > MAX_QUERY_LENGTH) {
    throw badRequest(`The search text is ${input.length} characters long; at most ${MAX_QUERY_LENGTH} are allowed.`);
  }
  const terms: Term[] = [];
  const tags: TagFilter[] = [];
  let i = 0;
  const s = input;
  const readQuoted = (): string => {
    // s[i] is the opening quote; an unterminated quote runs to the end.
    const close = s.indexOf('"', i + 1);
    const text = s.slice(i + 1, close < 0 ? s.length : close);
    i = close < 0 ? s.length : close + 1;
    return text;
  };
  const readBare = (): string => {
    const start = i;
    while (i < s.length && !/\s/.test(s[i]!) && s[i] !== '"') i++;
    return s.slice(start, i);
  };

  while (i < s.length) {
    if (/\s/.test(s[i]!)) {
      i++;
      continue;
    }
    let head: string;
    let quoted = false;
    if (s[i] === '"') {
      head = readQuoted();
      quoted = true;
    } else {
      head = readBare();
    }
    // A tag filter: KEY=VALUE, KEY:VALUE or KEY: with KEY bare or quoted; VALUE bare or quoted.
    let key: string | undefined;
    let sep: string | undefined;
    let rest = "";
    if (quoted && (s[i] === "=" || s[i] === ":")) {
      key = head;
      sep = s[i];
      i++;
      rest = s[i] === '"' ? readQuoted() : readBare();
    } else if (!quoted) {
      const m = /^([^=:]+)([=:])(.*)$/s.exec(head);
      if (m && !head.startsWith("*")) {
        key = m[1]!;
        sep = m[2]!;
        rest = m[3]!;
        if (rest === "" && s[i] === '"') rest = readQuoted();
      }
    }
    if (key !== undefined && sep !== undefined && key.trim() !== "") {
      tags.push(sep === ":" && rest === "" ? { key: key.trim() } : { key: key.trim(), value: rest });
      continue;
    }

    if (quoted) {
      const isPrefix = s[i] === "*";
      if (isPrefix) i++;
      addWords(terms, head, isPrefix ? "prefix" : "phrase");
      continue;
    }
    if (head.length > 1 && head.startsWith("*")) {
      const inner = head.replace(/^\*+|\*+$/g, "");
      if (inner.length > 0 && [...inner].length < 3) {
        throw badRequest(`A substring search needs at least 3 characters; "*${inner}*" has ${[...inner].length}.`);
      }
      if (inner) terms.push({ kind: "substring", text: inner, tokens: [] });
      continue;
    }
    if (head.endsWith("*")) {
      addWords(terms, head.replace(/\*+$/, ""), "prefix");
      continue;
    }
    addWords(terms, head, "phrase");
  }
  return { terms, tags };
}

function addWords(terms: Term[], text: string, kind: "phrase" | "prefix"): void {
  const tokens = tokenize(text).map((t) => t.token);
  // Text with no letters or digits ("+++", "--") can match nothing the index holds: drop it rather than fail.
  if (tokens.length === 0) return;
  terms.push({ kind, text, tokens });
}

/** The FTS5 expression for the word terms: each a quoted phrase of plain word tokens, so no user text is syntax. */
export function ftsExpression(terms: Term[]): string | undefined {
  const parts = terms.filter((t) => t.kind !== "substring").map((t) => `"${t.tokens.join(" ")}"${t.kind === "prefix" ? "*" : ""}`);
  return parts.length ? parts.join(" AND ") : undefined;
}

/** The trigram expression for substring terms: each quoted with embedded quotes doubled. */
export function trigramExpression(terms: Term[]): string | undefined {
  const parts = terms.filter((t) => t.kind === "substring").map((t) => `"${t.text.replace(/"/g, '""')}"`);
  return parts.length ? parts.join(" AND ") : undefined;
}
