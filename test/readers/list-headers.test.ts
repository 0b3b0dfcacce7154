// Headers of any length: a MetaImage or NRRD header listing 3,000 slice files runs far past the first 64 KiB read;
// every slice is found, the last one included.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openMetaImage } from "../../src/preview/readers/metaimage.ts";
import { openNrrd } from "../../src/preview/readers/nrrd.ts";
import { tempDir } from "../support/env.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const DEPTH = 3000;
const names = Array.from({ length: DEPTH }, (_, z) => `slices/slice-with-a-rather-long-file-name-${String(z).padStart(6, "0")}.raw`);
mkdirSync(path.join(tmp.dir, "slices"));
names.forEach((n, z) => writeFileSync(path.join(tmp.dir, n), new Uint8Array([z % 256, 1, 2, 3])));

test("a MetaImage header listing 3,000 slice files (over 64 KiB) reads every slice", async () => {
  const header = ["ObjectType = Image", "NDims = 3", `DimSize = 2 2 ${DEPTH}`, "ElementType = MET_UCHAR", "ElementDataFile = LIST", ...names, ""].join("\n");
  expect(header.length).toBeGreaterThan(64 * 1024);
  writeFileSync(path.join(tmp.dir, "vol.mhd"), header);
  const src = await openMetaImage(tmp.dir, "vol.mhd");
  try {
    expect(src.depth).toBe(DEPTH);
    expect(src.files.length).toBe(DEPTH + 1);
    expect(Array.from((await src.readSlice(DEPTH - 1)) as Uint8Array)).toEqual([(DEPTH - 1) % 256, 1, 2, 3]);
  } finally {
    await src.close();
  }
});

test("an NRRD header listing 3,000 slice files (over 64 KiB) reads every slice", async () => {
  const header = ["NRRD0004", "type: uint8", "dimension: 3", `sizes: 2 2 ${DEPTH}`, "encoding: raw", "data file: LIST", ...names, ""].join("\n");
  expect(header.length).toBeGreaterThan(64 * 1024);
  writeFileSync(path.join(tmp.dir, "vol.nhdr"), header);
  const src = await openNrrd(tmp.dir, "vol.nhdr");
  try {
    expect(src.depth).toBe(DEPTH);
    expect(Array.from((await src.readSlice(DEPTH - 1)) as Uint8Array)).toEqual([(DEPTH - 1) % 256, 1, 2, 3]);
  } finally {
    await src.close();
  }
});
