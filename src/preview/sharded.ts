// Neuroglancer's sharded precomputed format (its sharded.md and volume.md): the chunks of one scale packed into a few
// `<shard>.shard` files, each found by the compressed Morton code of its grid position. A shard file is a fixed shard
// index (per minishard: the byte range of its minishard index), the chunks' bytes, then the minishard indices
// (chunk ids, offsets and sizes, each delta-encoded, as uint64le [3, n]). Writing appends each chunk to its shard's
// temp file as it is made, so memory holds only the (id, offset, size) entries; reading needs two small reads per
// shard, cached, and then one byte range per chunk.
import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

/** The `"sharding"` member of a scale in the `info` file. */
export interface ShardingSpec {
  "@type": "neuroglancer_uint64_sharded_v1";
  preshift_bits: number;
  hash: "identity";
  minishard_bits: number;
  shard_bits: number;
  minishard_index_encoding: "raw";
  data_encoding: "raw";
}

/** Bits a coordinate below `size` needs (0 for a dimension of one cell). */
const bitsFor = (size: number): number => (size <= 1 ? 0 : Math.ceil(Math.log2(size)));

/**
 * The compressed Morton code of a chunk's grid position: x, y and z bits interleaved from the lowest up, skipping the
 * bits a dimension of that grid never uses (volume.md, "Compressed morton code").
 */
export function compressedMortonCode(pos: readonly [number, number, number], grid: readonly [number, number, number]): bigint {
  const bits = grid.map(bitsFor);
  let code = 0n;
  let next = 0n;
  for (let bit = 0; bit < Math.max(...bits); bit++) {
    for (let dim = 0; dim < 3; dim++) {
      if (bit < bits[dim]!) {
        if ((pos[dim]! >>> bit) & 1) code |= 1n << next;
        next++;
      }
    }
  }
  return code;
}

/**
 * A sharding for a grid of chunks: the shard number is the top bits of the Morton code, so a shard is one block of
 * neighbouring chunks (what a viewer asks for together), each shard holding up to `2^chunkBits` chunks and each
 * minishard (searched linearly by readers) up to `2^minishardChunkBits`.
 */
export function shardingFor(grid: readonly [number, number, number], chunkBits = 12, minishardChunkBits = 6): ShardingSpec {
  const total = grid.reduce((n, g) => n + bitsFor(g), 0);
  const inShard = Math.min(total, chunkBits);
  const preshift = Math.min(inShard, minishardChunkBits);
  return {
    "@type": "neuroglancer_uint64_sharded_v1",
    preshift_bits: preshift,
    hash: "identity",
    minishard_bits: inShard - preshift,
    shard_bits: total - inShard,
    minishard_index_encoding: "raw",
    data_encoding: "raw",
  };
}

/** Where a chunk lives: its shard's number and its minishard within it. */
export function shardOf(spec: ShardingSpec, chunkId: bigint): { shard: number; minishard: number } {
  const hashed = chunkId >> BigInt(spec.preshift_bits);
  return {
    minishard: Number(hashed & ((1n << BigInt(spec.minishard_bits)) - 1n)),
    shard: Number((hashed >> BigInt(spec.minishard_bits)) & ((1n << BigInt(spec.shard_bits)) - 1n)),
  };
}

/** The file name of a shard: its number in lowercase hex, zero-padded to ceil(shard_bits / 4) digits. */
export function shardName(spec: ShardingSpec, shard: number): string {
  return `${shard.toString(16).padStart(Math.ceil(spec.shard_bits / 4), "0")}.shard`;
}

interface OpenShard {
  fd: number;
  tmp: string;
  /** Bytes written so far, the shard index included. */
  end: number;
  entries: { id: bigint; start: number; size: number }[];
}

/**
 * Writes one scale's shards into `dir`: chunks are appended to their shard's temp file in any order; `finishShard`
 * (or `finish` for all) writes the minishard indices and the shard index and renames the file into place.
 */
export class ShardWriter {
  private readonly open = new Map<number, OpenShard>();
  private readonly indexBytes: number;
  /** Shards written in full, by number. */
  readonly done = new Set<number>();

  constructor(
    private readonly dir: string,
    readonly spec: ShardingSpec,
  ) {
    this.indexBytes = 16 * 2 ** spec.minishard_bits;
  }

  /** Appends one chunk's bytes to its shard. */
  add(chunkId: bigint, data: Uint8Array): void {
    const { shard } = shardOf(this.spec, chunkId);
    if (this.done.has(shard)) throw new Error(`shard ${shard} is already written; chunk ${chunkId} came too late`);
    let s = this.open.get(shard);
    if (!s) {
      const tmp = path.join(this.dir, `.${shardName(this.spec, shard)}.tmp`);
      const fd = openSync(tmp, "w+", 0o644);
      // The shard index comes first; it is written over these zeros once every chunk is in.
      writeSync(fd, new Uint8Array(this.indexBytes), 0, this.indexBytes, 0);
      s = { fd, tmp, end: this.indexBytes, entries: [] };
      this.open.set(shard, s);
    }
    let at = 0;
    while (at < data.length) at += writeSync(s.fd, data, at, data.length - at, s.end + at);
    s.entries.push({ id: chunkId, start: s.end, size: data.length });
    s.end += data.length;
  }

  /** Completes one shard (no chunk may be added to it afterwards). */
  finishShard(shard: number): void {
    const found = this.open.get(shard);
    if (!found) return;
    const s = this.inIdOrder(found);
    const byMinishard = new Map<number, OpenShard["entries"]>();
    for (const e of s.entries) {
      const m = shardOf(this.spec, e.id).minishard;
      const list = byMinishard.get(m);
      if (list) list.push(e);
      else byMinishard.set(m, [e]);
    }
    const shardIndex = new BigUint64Array(2 * 2 ** this.spec.minishard_bits);
    for (const [m, entries] of [...byMinishard].sort((a, b) => a[0] - b[0])) {
      const n = entries.length;
      const index = new BigUint64Array(3 * n);
      let prevId = 0n;
      let prevEnd = this.indexBytes;
      entries.forEach((e, i) => {
        index[i] = e.id - prevId;
        index[n + i] = BigInt(e.start - prevEnd);
        index[2 * n + i] = BigInt(e.size);
        prevId = e.id;
        prevEnd = e.start + e.size;
      });
      const bytes = new Uint8Array(index.buffer);
      shardIndex[2 * m] = BigInt(s.end - this.indexBytes);
      writeSync(s.fd, bytes, 0, bytes.length, s.end);
      s.end += bytes.length;
      shardIndex[2 * m + 1] = BigInt(s.end - this.indexBytes);
    }
    writeSync(s.fd, new Uint8Array(shardIndex.buffer), 0, this.indexBytes, 0);
    fsyncSync(s.fd);
    closeSync(s.fd);
    renameSync(s.tmp, path.join(this.dir, shardName(this.spec, shard)));
    this.open.delete(shard);
    this.done.add(shard);
  }

  /**
   * The shard with its chunks' bytes in ascending id order, rewritten into a new temp file when they arrived in
   * another: then every delta of a minishard index (ids and offsets alike) is non-negative, which readers that do not
   * wrap around 2^64 need.
   */
  private inIdOrder(s: OpenShard): OpenShard {
    const sorted = [...s.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (sorted.every((e, i) => i === 0 || e.start >= sorted[i - 1]!.start)) return { ...s, entries: sorted };
    const tmp = `${s.tmp}.sorted`;
    const fd = openSync(tmp, "w", 0o644);
    writeSync(fd, new Uint8Array(this.indexBytes), 0, this.indexBytes, 0);
    let end = this.indexBytes;
    // One buffer for every chunk: this loop is synchronous, so garbage made here would pile up until it ends.
    let bytes = new Uint8Array(1 << 16);
    const entries = sorted.map((e) => {
      if (bytes.length < e.size) bytes = new Uint8Array(e.size);
      let got = 0;
      while (got < e.size) got += readSync(s.fd, bytes, got, e.size - got, e.start + got);
      let put = 0;
      while (put < e.size) put += writeSync(fd, bytes, put, e.size - put, end + put);
      const moved = { id: e.id, start: end, size: e.size };
      end += e.size;
      return moved;
    });
    closeSync(s.fd);
    renameSync(tmp, s.tmp);
    return { fd, tmp: s.tmp, end, entries };
  }

  /** Completes every shard still open. */
  finish(): void {
    for (const shard of [...this.open.keys()]) this.finishShard(shard);
  }

  /** Closes the temp files without completing them (the build was stopped; its folder is removed). */
  abandon(): void {
    for (const s of this.open.values()) closeSync(s.fd);
    this.open.clear();
  }
}

function readExactly(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new Error(`shard file ends at ${position + got}, ${length - got} bytes short`);
    got += n;
  }
  return buf;
}

/**
 * Finds a chunk in an open shard file: reads the minishard's entry in the shard index and then the minishard index
 * (both small; a caller serving many chunks caches `minishardIndex` per shard and minishard).
 */
export function minishardIndex(fd: number, spec: ShardingSpec, minishard: number): Map<bigint, [number, number]> {
  const indexBytes = 16 * 2 ** spec.minishard_bits;
  const entry = new BigUint64Array(readExactly(fd, 16, 16 * minishard).buffer);
  const start = Number(entry[0]!);
  const end = Number(entry[1]!);
  const out = new Map<bigint, [number, number]>();
  if (end <= start) return out;
  if ((end - start) % 24 !== 0) throw new Error(`minishard ${minishard}: its index is ${end - start} bytes, not a multiple of 24`);
  const index = new BigUint64Array(readExactly(fd, end - start, indexBytes + start).buffer);
  const n = index.length / 3;
  let id = 0n;
  let pos = indexBytes;
  for (let i = 0; i < n; i++) {
    id += index[i]!;
    pos += Number(index[n + i]!);
    const size = Number(index[2 * n + i]!);
    out.set(id, [pos, pos + size]);
    pos += size;
  }
  return out;
}

/** A chunk's byte range [start, end) in its shard file under `dir`, or null when it was never written (an empty region). */
export function findChunk(dir: string, spec: ShardingSpec, chunkId: bigint): { file: string; start: number; end: number } | null {
  const { shard, minishard } = shardOf(spec, chunkId);
  const file = path.join(dir, shardName(spec, shard));
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const range = minishardIndex(fd, spec, minishard).get(chunkId);
    return range ? { file, start: range[0], end: range[1] } : null;
  } finally {
    closeSync(fd);
  }
}
