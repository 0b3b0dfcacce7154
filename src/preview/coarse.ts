// The coarse pass of a large volume's preview: before the full one-pass build, the coarse levels are built from every
// 2^c-th slice (block means in x and y), published, and shown while the full build runs, so the viewer opens within
// seconds of a copy settling. It reads 1/2^c of the slices, so it costs a few percent of the full build.
import type { SliceData, VolumeSource } from "./readers/reader.types.ts";
import { churned } from "../platform/gc.ts";
import { READ_COST } from "./pyramid.ts";

/** The voxels of the level the coarse pass builds (about 320^3): big enough to look at, small enough to be quick. */
export const COARSE_VOXELS = 2 ** 25;

/**
 * The level the coarse pass starts at: the first of `dims` (from planLevels) with at most `budget` voxels, else the
 * coarsest; 0 (no coarse pass) when level 0 already has that few, since the full build is then about as quick.
 */
export function coarseLevel(dims: readonly [number, number, number][], budget = COARSE_VOXELS): number {
  const i = dims.findIndex(([w, h, d]) => w * h * d <= budget);
  return i === -1 ? dims.length - 1 : i;
}

/**
 * The coarse pass's share of a build's work, so progress follows the work: each pass costs the voxels it encodes
 * (every level, three orientations) and, at READ_COST each, the voxels it reads.
 */
export function coarseShare(dims: readonly [number, number, number][], c: number): number {
  if (c === 0) return 0;
  const voxels = ([w, h, d]: readonly [number, number, number]) => w * h * d;
  const encoded = (from: number) => dims.slice(from).reduce((n, l) => n + 3 * voxels(l), 0);
  const coarse = (voxels(dims[0]!) / 2 ** c) * READ_COST + encoded(c);
  const full = voxels(dims[0]!) * READ_COST + encoded(0);
  return coarse / (coarse + full);
}

/**
 * The volume as level `c` would be with z sampled instead of averaged: slice z is the mean of each 2^c x 2^c block of
 * source slice z * 2^c + 2^(c-1). The source stays open (the full build reads it next).
 */
export function subsampled(source: VolumeSource, c: number): VolumeSource {
  const f = 2 ** c;
  const width = Math.ceil(source.width / f);
  const height = Math.ceil(source.height / f);
  return {
    kind: source.kind,
    format: source.format,
    file: source.file,
    files: source.files,
    width,
    height,
    depth: Math.ceil(source.depth / f),
    dtype: source.dtype,
    spacing: [source.spacing[0] * f, source.spacing[1] * f, source.spacing[2] * f],
    unit: source.unit,
    dataRange: source.dataRange,
    valueScale: source.valueScale,
    async readSlice(z, signal) {
      const px = await source.readSlice(Math.min(z * f + (f >> 1), source.depth - 1), signal);
      churned(px.byteLength);
      return blockMean(px, source.width, source.height, c, width, height);
    },
    close: async () => {},
  };
}

/** Means of each 2^c x 2^c block of a w x h slice (smaller blocks at the right and bottom edges), in the slice's type. */
function blockMean(px: SliceData, w: number, h: number, c: number, w2: number, h2: number): SliceData {
  const out = new (px.constructor as new (n: number) => SliceData)(w2 * h2);
  const round = !(px instanceof Float32Array || px instanceof Float64Array);
  const acc = new Float64Array(w2);
  const f = 2 ** c;
  for (let oy = 0; oy < h2; oy++) {
    acc.fill(0);
    const y1 = Math.min((oy + 1) * f, h);
    for (let y = oy * f; y < y1; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) acc[x >> c]! += px[row + x]!;
    }
    const rows = y1 - oy * f;
    for (let ox = 0; ox < w2; ox++) {
      const n = rows * (Math.min((ox + 1) * f, w) - ox * f);
      const v = acc[ox]! / n;
      out[oy * w2 + ox] = round ? Math.round(v) : v;
    }
  }
  return out;
}
