// Reading a built preview's tiles back for tests: through our layout reader, and through an independent reader of
// Neuroglancer's spec (Python) that computes grid cells, Morton codes and shard files from the orientation's `info`.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { locateChunk, readShardIndex, ShardIndexCache, type Orientation, type ScaleInfo } from "../../src/preview/layout.ts";

/** The scales of a built preview's own `info`. */
export function scalesOf(dir: string): ScaleInfo[] {
  return (JSON.parse(readFileSync(path.join(dir, "info"), "utf8")) as { scales: ScaleInfo[] }).scales;
}

/** The bytes of the tile named `x0-x1_y0-y1_z0-z1` at `level`, or null when the preview has no such tile. */
export function readTile(dir: string, level: number, name: string): Buffer | null {
  const scale = scalesOf(dir)[level];
  const where = scale ? locateChunk(scale, name) : null;
  const r = where ? new ShardIndexCache().range(dir, where) : null;
  return r ? readFileSync(r.file).subarray(r.start, r.end) : null;
}

/** How many chunks one orientation's scale holds, from its shard indices; and its shard files. */
export function chunksIn(dir: string, o: Orientation, level: number): { chunks: number; shards: string[] } {
  const info = JSON.parse(readFileSync(path.join(dir, o, "info"), "utf8")) as { scales: Required<ScaleInfo>[] };
  const scaleDir = path.join(dir, o, String(level));
  const shards = readdirSync(scaleDir).sort();
  const chunks = shards.reduce((n, f) => n + readShardIndex(path.join(scaleDir, f), info.scales[level]!.sharding).ids.length, 0);
  return { chunks, shards };
}

const SPEC_READER = `
import hashlib, json, struct, sys
d, o, level, cells = json.load(sys.stdin)
info = json.load(open(d + "/" + o + "/info"))
scale = info["scales"][level]
sh = scale["sharding"]
cs = scale["chunk_sizes"][0]
grid = [-(-scale["size"][i] // cs[i]) for i in range(3)]
bits = [max(0, (g - 1).bit_length()) for g in grid]
for cell in cells:
    cid, out = 0, 0
    for b in range(max(bits)):
        for dim in range(3):
            if b < bits[dim]:
                cid |= ((cell[dim] >> b) & 1) << out
                out += 1
    h = cid >> sh["preshift_bits"]
    mini = h & ((1 << sh["minishard_bits"]) - 1)
    shard = (h >> sh["minishard_bits"]) & ((1 << sh["shard_bits"]) - 1)
    name = format(shard, "x").zfill((sh["shard_bits"] + 3) // 4) + ".shard"
    b = open(d + "/" + o + "/" + scale["key"] + "/" + name, "rb").read()
    base = 16 << sh["minishard_bits"]
    s, e = struct.unpack_from("<QQ", b, 16 * mini)
    n = (e - s) // 24
    a = struct.unpack_from("<%dQ" % (3 * n), b, base + s)
    cur, pos, found = 0, base, None
    for i in range(n):
        cur += a[i]; pos += a[n + i]
        if cur == cid: found = b[pos:pos + a[2 * n + i]]
        pos += a[2 * n + i]
    print(hashlib.sha256(found).hexdigest() if found is not None else "missing")
`;

/** The sha256 of each chunk at the given grid cells of one orientation, read by the Python reader of the spec. */
export async function specReaderHashes(dir: string, o: Orientation, level: number, cells: [number, number, number][]): Promise<string[]> {
  const p = Bun.spawn(["python3", "-c", SPEC_READER], {
    stdin: new TextEncoder().encode(JSON.stringify([dir, o, level, cells])),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`the spec reader failed: ${err}`);
  return text.trim().split("\n");
}

export const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** Every chunk of a built preview, each orientation and scale, as `o/scale/id` and its bytes. */
export function* allChunks(dir: string): Generator<[string, Buffer]> {
  for (const o of ["xy", "xz", "yz"] as const) {
    let info: { scales: Required<ScaleInfo>[] };
    try {
      info = JSON.parse(readFileSync(path.join(dir, o, "info"), "utf8"));
    } catch {
      continue;
    }
    for (const scale of info.scales) {
      const scaleDir = path.join(dir, o, scale.key);
      for (const f of readdirSync(scaleDir)) {
        const bytes = readFileSync(path.join(scaleDir, f));
        const index = readShardIndex(path.join(scaleDir, f), scale.sharding);
        for (let i = 0; i < index.ids.length; i++) yield [`${o}/${scale.key}/${index.ids[i]}`, bytes.subarray(index.starts[i], index.ends[i])];
      }
    }
  }
}
