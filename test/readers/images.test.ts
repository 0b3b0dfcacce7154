import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { detectVolumes, scanVolumes } from "../../src/preview/readers/index.ts";
import { tempDir } from "../support/env.ts";
import { phantom, writeBmp, writeBytes, writePng, writeRgb } from "./fixtures.ts";
import { expectPhantomSlice, loadNpyU8, readError } from "./helpers.ts";

const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
const tmp = tempDir("mata-readers-img-");
afterAll(() => tmp.cleanup());
let n = 0;
const dataset = () => path.join(tmp.dir, `ds${n++}`);

describe("2D pictures", () => {
  test("real skimage PNG and JPEG: gray kept exactly, colour as luminance", async () => {
    const srcs = await detectVolumes(SKIMAGE, ["camera.png", "chessboard_GRAY.png", "astronaut.png", "retina.jpg"]);
    const byFile = Object.fromEntries(srcs.map((s) => [s.file, s]));
    expect(byFile["camera.png"]).toMatchObject({ kind: "image", format: "png", width: 512, height: 512, depth: 1, dtype: "uint8", unit: "px" });
    expect(byFile["astronaut.png"]!.notes).toEqual(["RGB converted to luminance"]);
    expect(byFile["retina.jpg"]).toMatchObject({ format: "jpeg", width: 1411, height: 1411, dtype: "uint8" });
    const board = await byFile["chessboard_GRAY.png"]!.readSlice(0);
    const ref = await loadNpyU8(path.join(SKIMAGE, "chessboard_GRAY_U8.npy"));
    expect(Array.from(board)).toEqual(Array.from(ref.data));
    const astro = await byFile["astronaut.png"]!.readSlice(0);
    expect(astro.length).toBe(512 * 512);
  });

  test("generated 8- and 16-bit PNG keep exact values", async () => {
    const dir = dataset();
    await writePng(path.join(dir, "a.png"), "uint8", 13, 7, 3);
    await writePng(path.join(dir, "b.png"), "uint16", 13, 7, 5);
    const [a, b] = await detectVolumes(dir, ["a.png", "b.png"]);
    expect(a).toMatchObject({ dtype: "uint8", width: 13, height: 7, depth: 1 });
    expect(b).toMatchObject({ dtype: "uint16", width: 13, height: 7, depth: 1 });
    const sa = await a!.readSlice(0);
    const sb = await b!.readSlice(0);
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 13; x++) {
        expect(sa[y * 13 + x]).toBe(phantom("uint8", x, y, 3));
        expect(sb[y * 13 + x]).toBe(phantom("uint16", x, y, 5));
      }
    }
  });

  test("RGB PNG with equal channels gives the gray value; JPEG is not stacked", async () => {
    const dir = dataset();
    await writeRgb(path.join(dir, "rgb.png"), "png", 8, 8, 120);
    await writeRgb(path.join(dir, "photo_1.jpg"), "jpeg", 8, 8, 60);
    await writeRgb(path.join(dir, "photo_2.jpg"), "jpeg", 8, 8, 60);
    const srcs = await detectVolumes(dir, ["rgb.png", "photo_1.jpg", "photo_2.jpg"]);
    expect(srcs.map((s) => [s.file, s.depth])).toEqual([
      ["photo_1.jpg", 1],
      ["photo_2.jpg", 1],
      ["rgb.png", 1],
    ]);
    const gray = await srcs[2]!.readSlice(0);
    expect(new Set(gray)).toEqual(new Set([120]));
    const jpeg = await srcs[0]!.readSlice(0);
    for (const v of jpeg) expect(Math.abs(v - 60)).toBeLessThanOrEqual(2);
  });

  test("numbered PNGs of one size form a 16-bit stack", async () => {
    const dir = dataset();
    const files: string[] = [];
    for (let z = 0; z < 4; z++)
      files.push(await writePng(path.join(dir, `rec_${String(z).padStart(4, "0")}.png`), "uint16", 6, 5, z).then((f) => path.basename(f)));
    const [src] = await detectVolumes(dir, files);
    expect(src).toMatchObject({ format: "png-stack", kind: "volume", depth: 4, dtype: "uint16" });
    for (const z of [0, 3]) await expectPhantomSlice(src!, z);
  });

  test("BMP: 8-bit gray palette and 24-bit, bottom-up and top-down, and a numbered BMP stack", async () => {
    const dir = dataset();
    writeBmp(path.join(dir, "gray.bmp"), 13, 5, 2, 8);
    writeBmp(path.join(dir, "rgb.bmp"), 13, 5, 2, 24, true);
    for (let z = 0; z < 3; z++) writeBmp(path.join(dir, `sky_rec${String(z).padStart(8, "0")}.bmp`), 9, 4, z, 8);
    const files = ["gray.bmp", "rgb.bmp", "sky_rec00000000.bmp", "sky_rec00000001.bmp", "sky_rec00000002.bmp"];
    const [gray, rgb, stack] = await detectVolumes(dir, files);
    expect(gray).toMatchObject({ format: "bmp", kind: "image", width: 13, height: 5, dtype: "uint8" });
    // Both single pictures hold phantom slice z=2.
    for (const src of [gray!, rgb!]) {
      const s = await src.readSlice(0);
      for (let y = 0; y < 5; y++) for (let x = 0; x < 13; x++) expect(s[y * 13 + x]).toBe(phantom("uint8", x, y, 2));
    }
    expect(stack).toMatchObject({ format: "bmp-stack", depth: 3, width: 9, height: 4 });
    for (const z of [0, 2]) await expectPhantomSlice(stack!, z);
  });

  test("broken pictures: bad BMP magic, truncated BMP rows, corrupt PNG", async () => {
    const dir = dataset();
    writeBytes(path.join(dir, "magic.bmp"), "XX not a bitmap at all, just text padding padding");
    const full = await Bun.file(writeBmp(path.join(dir, "cut.bmp"), 64, 64, 0, 8)).bytes();
    writeBytes(path.join(dir, "cut.bmp"), full.subarray(0, full.length - 500));
    const png = await Bun.file(await writePng(path.join(dir, "bad.png"), "uint8", 64, 64, 0)).bytes();
    const broken = png.slice();
    broken.fill(7, 60, 200);
    writeBytes(path.join(dir, "bad.png"), broken);
    const { sources, failures } = await scanVolumes(dir, ["magic.bmp", "cut.bmp", "bad.png"]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["magic.bmp"]).toContain("bad BMP magic");
    expect(byFile["cut.bmp"]).toContain("truncated");
    // libvips may accept the header of the damaged PNG and fail only on decoding.
    if (!byFile["bad.png"]) {
      expect(sources.map((s) => s.file)).toEqual(["bad.png"]);
      expect(await readError(sources[0]!.readSlice(0))).toContain("bad.png");
    }
  });
});
