import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { detectVolumes } from "../../src/preview/readers/index.ts";
import { InflateCursor } from "../../src/preview/readers/inflate-cursor.ts";
import { tempDir } from "../support/env.ts";
import { sliceBytes, writeMetaImage, writeNifti } from "./fixtures.ts";
import { expectPhantomSlice } from "./helpers.ts";

const tmp = tempDir("mata-readers-stream-");
afterAll(() => tmp.cleanup());

describe("streaming, never the whole volume", () => {
  test("gzip cursor: a forward pass decompresses once; going back restarts from the start", async () => {
    const dir = path.join(tmp.dir, "cursor");
    mkdirSync(dir, { recursive: true });
    const data = new Uint8Array(1_000_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    writeFileSync(path.join(dir, "d.gz"), gzipSync(data));
    const cursor = new InflateCursor(path.join(dir, "d.gz"), "d.gz", "gzip");
    for (let at = 0; at < data.length; at += 100_000) {
      const got = new Uint8Array(await cursor.readAt(at + 7, 1000));
      expect(got[0]).toBe(data[at + 7]);
      expect(got[999]).toBe(data[at + 1006]);
    }
    expect(cursor.restarts).toBe(0);
    const back = new Uint8Array(await cursor.readAt(5, 10));
    expect(Array.from(back)).toEqual(Array.from(data.subarray(5, 15)));
    expect(cursor.restarts).toBe(1);
    cursor.close();
  });

  test("reading every slice of a 100 MB raw volume and a gzip NIfTI keeps memory far below the volume size", async () => {
    const dir = path.join(tmp.dir, "big");
    const w = 512;
    const h = 512;
    const d = 200; // uint16: 100 MiB
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "big.mhd"), `NDims = 3\nDimSize = ${w} ${h} ${d}\nElementType = MET_USHORT\nElementDataFile = big.raw\n`);
    const parts: Uint8Array[] = [];
    for (let z = 0; z < d; z++) parts.push(sliceBytes("uint16", w, h, z, true));
    writeFileSync(path.join(dir, "big.raw"), Buffer.concat(parts));
    writeNifti(path.join(dir, "big.nii.gz"), { dtype: "uint16", w, h, d: 60 });
    parts.length = 0;
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    const [mhd, nii] = await detectVolumes(dir, ["big.mhd", "big.raw", "big.nii.gz"]);
    let peak = before;
    for (const src of [mhd!, nii!]) {
      for (let z = 0; z < src.depth; z++) {
        const s = await src.readSlice(z);
        expect(s.length).toBe(w * h);
        if (z % 20 === 0) {
          Bun.gc(true);
          peak = Math.max(peak, process.memoryUsage().rss);
        }
      }
      await src.close();
    }
    await expectPhantomSlice(mhd!, 199);
    // A whole-volume load would add 100 MiB; slice-by-slice stays within a few slices and buffers.
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
  }, 60_000);

  test("an aborted signal stops a read before it starts", async () => {
    const dir = path.join(tmp.dir, "abort");
    writeMetaImage(dir, "v", { dtype: "uint8", w: 4, h: 4, d: 4 });
    const [src] = await detectVolumes(dir, ["v.mhd", "v.raw"]);
    const ac = new AbortController();
    ac.abort();
    await expect(src!.readSlice(1, ac.signal)).rejects.toThrow(/abort/i);
    await expectPhantomSlice(src!, 1);
  });
});
