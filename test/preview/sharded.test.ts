// The sharded precomputed format as Neuroglancer reads it: Morton codes as its spec computes them, shards written in
// any chunk order and read back by our reader and by an independent reader written from the spec (Python).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { compressedMortonCode, findChunk, ShardWriter, shardingFor, shardOf } from "../../src/preview/sharded.ts";
import { tempDir } from "../support/env.ts";

const { dir, cleanup } = tempDir();
afterAll(cleanup);

test("compressed Morton codes interleave x, y, z from the lowest bit and skip bits a dimension never uses", () => {
  const grid: [number, number, number] = [8, 8, 1200]; // 3, 3 and 11 bits
  expect(compressedMortonCode([1, 0, 0], grid)).toBe(1n);
  expect(compressedMortonCode([0, 1, 0], grid)).toBe(2n);
  expect(compressedMortonCode([0, 0, 1], grid)).toBe(4n);
  expect(compressedMortonCode([2, 0, 0], grid)).toBe(8n);
  // Past x and y's three bits only z remains: z bit 3 is output bit 9, z bit 10 is output bit 16.
  expect(compressedMortonCode([0, 0, 8], grid)).toBe(512n);
  expect(compressedMortonCode([0, 0, 1024], grid)).toBe(1n << 16n);
  expect(compressedMortonCode([7, 7, 1199], grid)).toBeLessThan(1n << 17n);
  // A dimension of one cell has no bits at all.
  expect(compressedMortonCode([3, 0, 5], [4, 1, 8])).toBe(0b10111n);
  // Every cell of a grid gets its own code.
  const g: [number, number, number] = [5, 3, 6];
  const codes = new Set<bigint>();
  for (let z = 0; z < g[2]; z++) for (let y = 0; y < g[1]; y++) for (let x = 0; x < g[0]; x++) codes.add(compressedMortonCode([x, y, z], g));
  expect(codes.size).toBe(90);
});

test("the sharding puts the top Morton bits in the shard number, so a shard is a block of neighbouring chunks", () => {
  const spec = shardingFor([8, 8, 1200], 12, 6);
  expect(spec).toMatchObject({ preshift_bits: 6, minishard_bits: 6, shard_bits: 5, hash: "identity" });
  expect(shardOf(spec, compressedMortonCode([0, 0, 0], [8, 8, 1200])).shard).toBe(0);
  expect(shardOf(spec, compressedMortonCode([7, 7, 1199], [8, 8, 1200])).shard).toBe(Number((compressedMortonCode([7, 7, 1199], [8, 8, 1200]) >> 12n) & 31n));
  // A grid smaller than one shard is one shard.
  expect(shardingFor([2, 2, 3])).toMatchObject({ shard_bits: 0, preshift_bits: 4, minishard_bits: 0 });
});

test("chunks written in any order are found by our reader and by an independent reader of the spec", async () => {
  const grid: [number, number, number] = [6, 5, 40];
  const spec = shardingFor(grid, 8, 3);
  const out = path.join(dir, "scale");
  mkdirSync(out);
  const w = new ShardWriter(out, spec);
  const chunks = new Map<bigint, Uint8Array>();
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cells: [number, number, number][] = [];
  for (let z = 0; z < grid[2]; z++) for (let y = 0; y < grid[1]; y++) for (let x = 0; x < grid[0]; x++) if (rand() > 0.1) cells.push([x, y, z]);
  // Written in a shuffled order, with sizes from 0 bytes up.
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cells[i], cells[j]] = [cells[j]!, cells[i]!];
  }
  for (const c of cells) {
    const data = new Uint8Array(Math.floor(rand() * 3000)).map(() => Math.floor(rand() * 256));
    const id = compressedMortonCode(c, grid);
    chunks.set(id, data);
    w.add(id, data);
  }
  w.finish();
  const files = readdirSync(out).sort();
  expect(files.every((f) => /^[0-9a-f]\.shard$/.test(f))).toBe(true);
  expect(files.length).toBeLessThanOrEqual(2 ** spec.shard_bits);

  for (const [id, data] of chunks) {
    const r = findChunk(out, spec, id)!;
    expect(r).not.toBeNull();
    expect(Buffer.from(readFileSync(r.file).subarray(r.start, r.end)).equals(Buffer.from(data))).toBe(true);
  }
  const missing = [...Array(grid[0] * grid[1] * grid[2]).keys()].map(BigInt).find((id) => !chunks.has(id))!;
  expect(findChunk(out, spec, missing)).toBeNull();

  // The spec's reader, written apart from ours: shard index, delta-decoded minishard index, chunk bytes.
  const py = `
import hashlib, json, struct, sys
spec, d, ids = json.load(sys.stdin)
for cid in ids:
    cid = int(cid)
    h = cid >> spec["preshift_bits"]
    mini = h & ((1 << spec["minishard_bits"]) - 1)
    shard = (h >> spec["minishard_bits"]) & ((1 << spec["shard_bits"]) - 1)
    name = format(shard, "x").zfill((spec["shard_bits"] + 3) // 4) + ".shard"
    b = open(d + "/" + name, "rb").read()
    base = 16 << spec["minishard_bits"]
    s, e = struct.unpack_from("<QQ", b, 16 * mini)
    n = (e - s) // 24
    a = struct.unpack_from("<%dQ" % (3 * n), b, base + s)
    cur, pos, found = 0, base, None
    for i in range(n):
        cur += a[i]; pos += a[n + i]
        if cur == cid: found = b[pos:pos + a[2 * n + i]]
        pos += a[2 * n + i]
    print(cid, hashlib.sha256(found).hexdigest() if found is not None else "missing")
`;
  const ids = [...chunks.keys()].map(String);
  const p = Bun.spawn(["python3", "-c", py], {
    stdin: new TextEncoder().encode(JSON.stringify([spec, out, [...ids, String(missing)]])),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const seen = new Map(
    text
      .trim()
      .split("\n")
      .map((l) => l.split(" ") as [string, string]),
  );
  for (const [id, data] of chunks) expect(seen.get(String(id))).toBe(new Bun.CryptoHasher("sha256").update(data).digest("hex"));
  expect(seen.get(String(missing))).toBe("missing");
});

test("a shard is complete once finished; a chunk for it afterwards is refused", () => {
  const out = path.join(dir, "late");
  mkdirSync(out);
  const spec = shardingFor([4, 4, 4], 3, 1);
  const w = new ShardWriter(out, spec);
  w.add(0n, new Uint8Array([1]));
  w.finishShard(0);
  expect(readdirSync(out)).toEqual(["0.shard"]);
  expect(() => w.add(1n, new Uint8Array([2]))).toThrow(/already written/);
  w.add(8n, new Uint8Array([3]));
  w.abandon();
  expect(readdirSync(out).sort()).toEqual([".1.shard.tmp", "0.shard"]);
});
