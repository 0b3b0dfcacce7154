import type { Database } from "bun:sqlite";
import { dictionaryRepo, type Term } from "./dictionary.repo.ts";

/** A key used by at least this many datasets counts as "common" for the did-you-mean prompt. */
export const COMMON_KEY_MIN_DATASETS = 2;
/** How many suggestions a prefix gets at most. */
export const MAX_SUGGESTIONS = 20;
// Typo matching starts at three characters: below that every word is one edit from everything.
const FUZZY_MIN_LENGTH = 3;
const FUZZY_MAX_LENGTH = 40;
// Characters tried for substitutions and insertions, besides those of the input itself.
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 -_./";

/** Case-insensitive form, the same as SQLite's lower() that the count tables store (ASCII letters). */
export function fold(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** One suggestion: the term, how many datasets use it, and whether it matched exactly or with a typo. */
export interface Suggestion extends Term {
  match: "prefix" | "typo";
}

/**
 * Every string one edit (delete, transpose, substitute, insert) away from `u`, read as a prefix: a term
 * starting with one of them is within one typo of what the user typed so far. Variants that merely extend
 * `u` are left out (the exact prefix query finds those).
 */
export function typoPrefixes(u: string): string[] {
  const n = u.length;
  const chars = [...new Set(ALPHABET + u)];
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add(u.slice(0, i) + u.slice(i + 1));
  for (let i = 0; i + 1 < n; i++) out.add(u.slice(0, i) + u[i + 1] + u[i] + u.slice(i + 2));
  for (let i = 0; i < n - 1; i++) for (const c of chars) out.add(u.slice(0, i) + c + u.slice(i + 1));
  for (let i = 0; i < n; i++) for (const c of chars) out.add(u.slice(0, i) + c + u.slice(i));
  out.delete(u);
  return [...out].filter((v) => v !== "" && !v.startsWith(u));
}

function rank(exact: Term[], fuzzy: Term[], limit: number): Suggestion[] {
  const seen = new Set(exact.map((t) => t.term));
  const out: Suggestion[] = exact.map((t) => ({ ...t, match: "prefix" }));
  for (const t of fuzzy) {
    if (out.length >= limit) break;
    if (seen.has(t.term)) continue;
    seen.add(t.term);
    out.push({ ...t, match: "typo" });
  }
  return out;
}

/**
 * Keys (no `key`) or values of a key, starting with `prefix` case-insensitively, most used first; then terms
 * within one typo of the prefix, most used first, to fill the list.
 */
export function suggest(db: Database, prefix: string, key: string | undefined, limit = 10): Suggestion[] {
  const repo = dictionaryRepo(db);
  const p = fold(prefix.trimStart());
  const fuzzy = p.length >= FUZZY_MIN_LENGTH && p.length <= FUZZY_MAX_LENGTH;
  if (key === undefined) {
    const exact = repo.keys(p, limit);
    return rank(exact, exact.length < limit && fuzzy ? repo.keysByAnyPrefix(typoPrefixes(p), limit) : [], limit);
  }
  const k = fold(key.trim());
  const exact = repo.values(k, p, limit);
  return rank(exact, exact.length < limit && fuzzy ? repo.valuesByAnyPrefix(k, typoPrefixes(p), limit) : [], limit);
}

/** Optimal string alignment distance (edits plus adjacent swaps), stopping early past `max`. */
export function typoDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The common key a new key most likely meant ("Specis", "species" or "Species " for "Species"), or null when
 * the key is already in use as typed or nothing common is close: the editor then asks "did you mean".
 */
export function didYouMean(db: Database, key: string): Term | null {
  const repo = dictionaryRepo(db);
  const k = key.trim();
  if (k === "" || repo.keyCount(k) > 0) return null;
  const f = fold(k);
  const max = f.length <= 4 ? 1 : 2;
  let best: { term: Term; d: number } | null = null;
  for (const c of repo.commonKeys(COMMON_KEY_MIN_DATASETS, f.length - max, f.length + max, 5000)) {
    const d = c.fold === f ? 0 : typoDistance(f, c.fold, max);
    if (d <= max && (!best || d < best.d)) best = { term: { term: c.term, datasets: c.datasets }, d };
    if (best?.d === 0) break;
  }
  return best?.term ?? null;
}
