import { afterAll, expect, test } from "bun:test";
import path from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { scanVolumes } from "../../src/preview/readers/index.ts";
import { tempDir } from "../support/env.ts";
import { writeBmp, writeDicom, writeLzwTiff, writeNifti, writeNrrd, writePng, writeTiff } from "./fixtures.ts";

const tmp = tempDir("mata-readers-fuzz-");
afterAll(() => tmp.cleanup());

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test("randomly corrupted and truncated files of every format reject with VolumeReadError or read, never crash or hang", async () => {
  const src = path.join(tmp.dir, "src");
  const originals = [
    writeTiff(path.join(src, "deflate.tif"), { dtype: "uint16", width: 33, height: 17, pages: [0, 1], compression: "deflate", tile: 16 }),
    writeTiff(path.join(src, "packbits.tif"), { dtype: "uint8", width: 33, height: 17, pages: [0, 1], compression: "packbits", littleEndian: false }),
    await writeLzwTiff(path.join(src, "lzw.tif"), "uint16", 40, 20, 0),
    writeNifti(path.join(src, "v.nii.gz"), { dtype: "int16", w: 16, h: 16, d: 4 }),
    writeNifti(path.join(src, "v.nii"), { dtype: "float32", w: 16, h: 16, d: 4 }),
    writeNrrd(src, "n", { dtype: "uint16", w: 16, h: 16, d: 4, gzip: true }),
    writeDicom(path.join(src, "d.dcm"), { w: 16, h: 16, z: 0, series: "1", instance: 1, position: 0 }),
    writeBmp(path.join(src, "b.bmp"), 16, 16, 0, 8),
    await writePng(path.join(src, "p.png"), "uint16", 16, 16, 0),
  ];
  const rand = prng(42);
  let rejected = 0;
  let read = 0;
  for (const original of originals) {
    const bytes = await Bun.file(original).bytes();
    const ext = path.basename(original).replace(/^[^.]*/, "");
    for (let i = 0; i < 12; i++) {
      const dir = path.join(tmp.dir, `${path.basename(original)}-${i}`);
      mkdirSync(dir, { recursive: true });
      let mutated: Uint8Array;
      if (i % 3 === 0) mutated = bytes.subarray(0, Math.floor(rand() * bytes.length));
      else {
        mutated = bytes.slice();
        const flips = 1 + Math.floor(rand() * 8);
        for (let k = 0; k < flips; k++) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
      }
      writeFileSync(path.join(dir, `f${ext}`), mutated);
      const { sources, failures } = await scanVolumes(dir, [`f${ext}`]);
      for (const f of failures) {
        expect(f.name).toBe("VolumeReadError");
        expect(f.message).toContain(`f${ext}`);
        rejected++;
      }
      for (const s of sources) {
        for (let z = 0; z < s.depth; z++) {
          try {
            await s.readSlice(z);
            read++;
          } catch (e) {
            expect((e as Error).name).toBe("VolumeReadError");
            expect((e as Error).message).toContain(`f${ext}`);
            rejected++;
          }
        }
        await s.close();
      }
    }
  }
  expect(rejected).toBeGreaterThan(20);
  expect(read).toBeGreaterThan(0);
}, 60_000);
