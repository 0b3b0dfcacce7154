import type { AppContext } from "../context.ts";
import { notFound } from "../errors.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { cloudRepo, type TaggedDataset, type TagRowLite } from "./cloud.repo.ts";

/** Font sizes (em) of the rarest and the most common tag: a narrow band, so rare tags stay readable. */
export const MIN_EM = 0.85;
/** The most common tag's size: under 2.3x the rarest, so rare tags and typos stay visible but small. */
export const MAX_EM = 1.9;

/** One tag of the cloud: a key=value pair, or a key alone in keys mode. */
export interface CloudItem {
  key: string;
  value?: string;
  /** Datasets carrying it. */
  count: number;
  /** 0..1 on the Zipf-linearised scale. */
  weight: number;
  /** Font size in em. */
  size: number;
}

/** A page of the alphabetical cloud. */
export interface Cloud {
  mode: "pairs" | "keys";
  prefix: string;
  total: number;
  max: number;
  limit: number;
  offset: number;
  items: CloudItem[];
}

/**
 * Zipf's law makes a tag's frequency fall as 1/rank, so log(count) is linear in log(rank): mapping log(count) onto
 * [0, 1] spreads tags evenly over the font sizes instead of making the few very common ones huge.
 */
export function zipfWeight(count: number, max: number): number {
  if (max <= 1 || count <= 1) return 0;
  return Math.min(1, Math.log(count) / Math.log(max));
}

/** The font size for a weight, rounded so pages stay small. */
export function fontSize(weight: number): number {
  return Math.round((MIN_EM + (MAX_EM - MIN_EM) * weight) * 100) / 100;
}

/** While the store keeps changing, the cloud's maximum and size may be this old: they only scale fonts and label the page. */
const SUMMARY_TTL_MS = 2_000;

/** Each mode's (and prefix's) largest count and size with when it was read, one table per context (built with its services). */
export type CloudSummaries = Map<string, { at: number; marker: string; max: number; total: number }>;

/** An empty summary table for a new context. */
export function newCloudSummaries(): CloudSummaries {
  return new Map();
}

/** The largest count and the number of entries of a mode (and prefix), reused while nothing was written: each scans 200,000+ pairs. */
function summary(ctx: AppContext, mode: "pairs" | "keys", lo: string, hi: string): { max: number; total: number } {
  const byKey = ctx.services.cloudSummaries;
  const repo = cloudRepo(ctx.db);
  const k = `${mode}\u0000${lo}`;
  const now = ctx.clock.now();
  const marker = repo.writeMarker();
  const hit = byKey.get(k);
  if (hit && (hit.marker === marker || now - hit.at < SUMMARY_TTL_MS)) return hit;
  const fresh = {
    at: now,
    marker,
    max: mode === "pairs" ? repo.pairsMax() : repo.keysMax(),
    total: mode === "pairs" ? repo.pairsTotal(lo, hi) : repo.keysTotal(lo, hi),
  };
  if (byKey.size > 100) byKey.clear();
  byKey.set(k, fresh);
  return fresh;
}

/** The tag cloud (alphabetical, case-insensitive), one page of it, narrowed to keys starting with a prefix. */
export function tagCloud(ctx: AppContext, opts: { mode: "pairs" | "keys"; prefix: string; limit: number; offset: number }): Cloud {
  const repo = cloudRepo(ctx.db);
  const lo = opts.prefix.toLowerCase();
  const hi = `${lo}\u{10FFFF}`;
  const { max, total } = summary(ctx, opts.mode, lo, hi);
  const rows: { key: string; value?: string; n: number }[] =
    opts.mode === "pairs" ? repo.pairs(lo, hi, opts.limit, opts.offset) : repo.keys(lo, hi, opts.limit, opts.offset);
  const items = rows.map((r) => {
    const weight = zipfWeight(r.n, max);
    const item: CloudItem = { key: r.key, count: r.n, weight: Math.round(weight * 1000) / 1000, size: fontSize(weight) };
    if (r.value !== undefined) item.value = r.value;
    return item;
  });
  return { mode: opts.mode, prefix: opts.prefix, total, max, limit: opts.limit, offset: opts.offset, items };
}

/** Where a cloud entry leads: a single subtree's page, or a choice between the subtrees / values it covers. */
export type TagTarget =
  | { kind: "hash"; hash: string }
  | { kind: "variants"; key: string; value: string; variants: { hash: string; count: number; tag: TagNode }[] }
  | { kind: "values"; key: string; values: { value: string; count: number }[] };

/** Resolves a cloud entry to its tag page (one subtree), or lists what it stands for when that is ambiguous. */
export function resolveTag(ctx: AppContext, key: string, value: string | undefined): TagTarget {
  const repo = cloudRepo(ctx.db);
  if (value === undefined) {
    const values = repo.valuesOfKey(key, 1000).map((v) => ({ value: v.value, count: v.n }));
    if (values.length === 0) throw notFound(`No dataset has a tag ${key}`);
    return { kind: "values", key, values };
  }
  const variants = repo.variants(key, value, 200);
  if (variants.length === 0) throw notFound(`No dataset has the tag ${key} = ${value}`);
  if (variants.length === 1 && variants[0]!.hash) return { kind: "hash", hash: variants[0]!.hash };
  return {
    kind: "variants",
    key,
    value,
    variants: variants.filter((v) => v.hash).map((v) => ({ hash: v.hash, count: v.n, tag: toTree(repo.subtreeRows(v.hash))! })),
  };
}

/** Up to this many carriers a tag page lists them by title; beyond, newest first (sorting 50,000 titles costs 150 ms). */
const ALPHABETICAL_AT_MOST = 5_000;

/** The tag page: the subtree and every dataset carrying an equal one (keys, values, children; order ignored). */
export function tagPage(
  ctx: AppContext,
  hash: string,
  limit: number,
  offset: number,
): { hash: string; tag: TagNode; total: number; alphabetical: boolean; items: TaggedDataset[] } {
  const repo = cloudRepo(ctx.db);
  const tag = toTree(repo.subtreeRows(hash));
  if (!tag) throw notFound("No dataset carries this tag (it may have been edited since the link was made)");
  const total = repo.carriersTotal(hash);
  return { hash, tag, total, alphabetical: total <= ALPHABETICAL_AT_MOST, items: repo.carriers(hash, limit, offset, total <= ALPHABETICAL_AT_MOST) };
}

function toTree(rows: TagRowLite[]): TagNode | undefined {
  const nodes = new Map<number, TagNode>();
  let root: TagNode | undefined;
  for (const r of rows) {
    const node: TagNode = { key: r.key, value: r.value, children: [] };
    nodes.set(r.id, node);
    const parent = r.parent_id === null ? undefined : nodes.get(r.parent_id);
    if (parent) parent.children.push(node);
    else root ??= node;
  }
  return root;
}
