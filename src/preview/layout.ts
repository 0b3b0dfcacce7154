// Mata's preview layout on disk: one Neuroglancer precomputed volume per orientation (`xy/`, `xz/`, `yz/`), each
// with its own `info` and, per scale, a few `.shard` files (sharded.ts) holding that orientation's chunks, so a 10 GB
// volume's preview is a few hundred files instead of hundreds of thousands. The preview's own `info` (served at
// `.../tiles/info`) lists the three chunk shapes of the unsharded format, and a tile URL's chunk name is mapped here
// to its orientation, grid cell, Morton code and byte range.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import path from "node:path";
import { WeightedLru } from "./lru.ts";
import { compressedMortonCode, ShardWriter, shardingFor, shardName, shardOf, type ShardingSpec } from "./sharded.ts";

/** Tile edge in pixels; the chunk shapes of every scale are [T,T,1], [T,1,T] and [1,T,T]. */
export const TILE = 256;

export type Orientation = "xy" | "xz" | "yz";
export const ORIENTATIONS: readonly Orientation[] = ["xy", "xz", "yz"];

/** The chunk shape of each orientation's volume. */
export const CHUNK_SHAPE: Record<Orientation, [number, number, number]> = {
  xy: [TILE, TILE, 1],
  xz: [TILE, 1, TILE],
  yz: [1, TILE, TILE],
};

/** One scale of the Neuroglancer precomputed `info` file. */
export interface ScaleInfo {
  key: string;
  size: [number, number, number];
  resolution: [number, number, number];
  voxel_offset: [number, number, number];
  chunk_sizes: [number, number, number][];
  encoding: "jpeg" | "raw";
  sharding?: ShardingSpec;
}

/** The number of chunks along each axis of a scale in one orientation. */
export function chunkGrid(size: readonly [number, number, number], o: Orientation): [number, number, number] {
  const shape = CHUNK_SHAPE[o];
  return [Math.ceil(size[0] / shape[0]), Math.ceil(size[1] / shape[1]), Math.ceil(size[2] / shape[2])];
}

/**
 * The sharding of one scale and orientation: 4,096 chunks a shard (about 50 MB of JPEG tiles), more for grids so large
 * that this would give over 256 shards, since a build keeps every shard of a scale open until the end.
 */
export function layoutSharding(grid: readonly [number, number, number]): ShardingSpec {
  const bits = grid.reduce((n, g) => n + (g <= 1 ? 0 : Math.ceil(Math.log2(g))), 0);
  return shardingFor(grid, Math.max(12, bits - 8));
}

/** The `info` of one orientation's volume: the preview's scales with that orientation's chunk shape and sharding. */
export function orientationInfo(scales: ScaleInfo[], o: Orientation): object {
  return {
    "@type": "neuroglancer_multiscale_volume",
    type: "image",
    data_type: "uint8",
    num_channels: 1,
    scales: scales.map((s) => ({ ...s, chunk_sizes: [CHUNK_SHAPE[o]], sharding: layoutSharding(chunkGrid(s.size, o)) })),
  };
}

/** The preview's own `info`: every scale with the chunk shapes it has, as the unsharded format lists them. */
export function previewInfo(scales: ScaleInfo[]): object {
  return { "@type": "neuroglancer_multiscale_volume", type: "image", data_type: "uint8", num_channels: 1, scales };
}

/**
 * Writes a preview's chunks into the sharded layout under `outDir`: `add` takes a chunk by its voxel origin as it is
 * encoded, in any order; `finish` completes every shard and writes the `info` files.
 */
export class LayoutWriter {
  private readonly writers = new Map<string, { writer: ShardWriter; grid: [number, number, number] }>();
  /** Chunks written. */
  chunks = 0;

  constructor(
    private readonly outDir: string,
    private readonly scales: ScaleInfo[],
    private readonly orientations: readonly Orientation[],
  ) {
    for (const o of orientations) {
      for (const s of scales) {
        const dir = path.join(outDir, o, s.key);
        mkdirSync(dir, { recursive: true });
        const grid = chunkGrid(s.size, o);
        this.writers.set(`${o}/${s.key}`, { writer: new ShardWriter(dir, layoutSharding(grid)), grid });
      }
    }
  }

  /** Adds the chunk of `o` at scale `level` whose first voxel is `origin`. */
  add(o: Orientation, level: number, origin: readonly [number, number, number], bytes: Uint8Array): void {
    const w = this.writers.get(`${o}/${level}`);
    if (!w) throw new Error(`no ${o} volume at scale ${level} in this build`);
    const shape = CHUNK_SHAPE[o];
    const cell: [number, number, number] = [origin[0] / shape[0], origin[1] / shape[1], origin[2] / shape[2]];
    w.writer.add(compressedMortonCode(cell, w.grid), bytes);
    this.chunks++;
  }

  /** Completes every shard and writes the orientations' `info` files and the preview's own. */
  finish(): void {
    for (const { writer } of this.writers.values()) writer.finish();
    for (const o of this.orientations) writeFileSync(path.join(this.outDir, o, "info"), JSON.stringify(orientationInfo(this.scales, o)));
    writeFileSync(path.join(this.outDir, "info"), JSON.stringify(previewInfo(this.scales)));
  }

  /** Closes the temp files of a stopped build (its folder is removed by the caller). */
  abandon(): void {
    for (const { writer } of this.writers.values()) writer.abandon();
  }
}

const CHUNK_NAME = /^(\d{1,9})-(\d{1,9})_(\d{1,9})-(\d{1,9})_(\d{1,9})-(\d{1,9})$/;

/** Where a chunk named `x0-x1_y0-y1_z0-z1` lives in the layout, or null when the scale has no such chunk. */
export function locateChunk(scale: ScaleInfo, name: string): { orientation: Orientation; shard: string; id: bigint; spec: ShardingSpec } | null {
  const m = CHUNK_NAME.exec(name);
  if (!m) return null;
  const [x0, x1, y0, y1, z0, z1] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const bounds: [number, number][] = [
    [x0, x1],
    [y0, y1],
    [z0, z1],
  ];
  // The first orientation the name fits; two fit only for a chunk of one voxel row, which both hold alike.
  for (const o of ORIENTATIONS) {
    const shape = CHUNK_SHAPE[o];
    if (!scale.chunk_sizes.some((c) => c.every((v, i) => v === shape[i]))) continue;
    if (!bounds.every(([a, b], i) => a % shape[i]! === 0 && a < scale.size[i]! && b === Math.min(a + shape[i]!, scale.size[i]!))) continue;
    const grid = chunkGrid(scale.size, o);
    const id = compressedMortonCode([x0 / shape[0], y0 / shape[1], z0 / shape[2]], grid);
    const spec = layoutSharding(grid);
    return { orientation: o, shard: path.join(o, scale.key, shardName(spec, shardOf(spec, id).shard)), id, spec };
  }
  return null;
}

/** Every chunk name of a scale, in each of its orientations (what a complete build holds). */
export function* chunkNames(scale: ScaleInfo): Generator<string> {
  const span = (a: number, step: number, size: number) => `${a}-${Math.min(a + step, size)}`;
  for (const shape of scale.chunk_sizes) {
    const [w, h, d] = scale.size;
    for (let z = 0; z < d; z += shape[2])
      for (let y = 0; y < h; y += shape[1])
        for (let x = 0; x < w; x += shape[0]) yield `${span(x, shape[0], w)}_${span(y, shape[1], h)}_${span(z, shape[2], d)}`;
  }
}

/** One shard's chunk index, decoded once: ids ascending and each chunk's byte range. */
interface ShardIndex {
  ids: Float64Array;
  starts: Float64Array;
  ends: Float64Array;
  size: number;
}

function readAt(fd: number, buf: Uint8Array, position: number): void {
  for (let got = 0; got < buf.length;) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) throw new Error(`shard file ends at ${position + got}, ${buf.length - got} bytes short`);
    got += n;
  }
}

/** Reads a whole shard's index (the shard index and every minishard index, two reads) into sorted arrays. */
export function readShardIndex(file: string, spec: ShardingSpec): ShardIndex {
  const fd = openSync(file, "r");
  try {
    const indexBytes = 16 * 2 ** spec.minishard_bits;
    const head = new Uint8Array(indexBytes);
    readAt(fd, head, 0);
    const shardIndex = new BigUint64Array(head.buffer);
    let lo = Infinity;
    let hi = 0;
    for (let m = 0; m < shardIndex.length / 2; m++) {
      const [s, e] = [Number(shardIndex[2 * m]!), Number(shardIndex[2 * m + 1]!)];
      if (e > s) [lo, hi] = [Math.min(lo, s), Math.max(hi, e)];
    }
    const ids: number[] = [];
    const ranges: [number, number][] = [];
    if (hi > lo) {
      const body = new Uint8Array(hi - lo);
      readAt(fd, body, indexBytes + lo);
      for (let m = 0; m < shardIndex.length / 2; m++) {
        const [s, e] = [Number(shardIndex[2 * m]!), Number(shardIndex[2 * m + 1]!)];
        if (e <= s) continue;
        if ((e - s) % 24 !== 0) throw new Error(`${file}: minishard ${m}'s index is ${e - s} bytes, not a multiple of 24`);
        const index = new BigUint64Array(body.buffer.slice(s - lo, e - lo));
        const n = index.length / 3;
        let id = 0;
        let pos = indexBytes;
        for (let i = 0; i < n; i++) {
          id += Number(index[i]!);
          pos += Number(index[n + i]!);
          const size = Number(index[2 * n + i]!);
          ids.push(id);
          ranges.push([pos, pos + size]);
          pos += size;
        }
      }
    }
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]! - ids[b]!);
    const size = fstatSync(fd).size;
    const out: ShardIndex = { ids: new Float64Array(order.length), starts: new Float64Array(order.length), ends: new Float64Array(order.length), size };
    order.forEach((j, i) => {
      out.ids[i] = ids[j]!;
      [out.starts[i], out.ends[i]] = ranges[j]!;
      if (ranges[j]![1] > size) throw new Error(`${file}: chunk ${ids[j]} ends at ${ranges[j]![1]}, past the file's ${size} bytes`);
    });
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The bytes from `start` to `end` of a shard file. */
export function readRange(file: string, start: number, end: number): Uint8Array<ArrayBuffer> {
  const fd = openSync(file, "r");
  try {
    const bytes = new Uint8Array(end - start);
    readAt(fd, bytes, start);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** The byte range of chunk `id` in a decoded shard index, or null when the shard does not hold it. */
export function rangeIn(index: ShardIndex, id: bigint): [number, number] | null {
  const want = Number(id);
  let lo = 0;
  let hi = index.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = index.ids[mid]!;
    if (v === want) return [index.starts[mid]!, index.ends[mid]!];
    if (v < want) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/**
 * Decoded shard indices of served previews, least recently used dropped first. A key's shards never change (a
 * changed volume gets a new content key), so an entry is never stale.
 */
export class ShardIndexCache {
  private readonly entries: WeightedLru<ShardIndex>;

  constructor(maxChunks = 2_000_000) {
    this.entries = new WeightedLru<ShardIndex>(maxChunks, (index) => index.ids.length);
  }

  /** The byte range of a chunk in `dir`'s layout, or null when it was never written (ENOENT: no shard). */
  range(dir: string, where: { shard: string; id: bigint; spec: ShardingSpec }): { file: string; start: number; end: number } | null {
    const file = path.join(dir, where.shard);
    let index = this.entries.get(file);
    if (!index) {
      try {
        index = readShardIndex(file, where.spec);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      this.entries.set(file, index);
    }
    const r = rangeIn(index, where.id);
    return r ? { file, start: r[0], end: r[1] } : null;
  }
}
