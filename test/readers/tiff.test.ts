import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { copyFileSync } from "node:fs";
import { detectVolumes, scanVolumes } from "../../src/preview/readers/index.ts";
import { tempDir } from "../support/env.ts";
import { phantom, writeLzwTiff, writeRgb, writeTiff } from "./fixtures.ts";
import { expectPhantomSlice, loadNpyU8, readError } from "./helpers.ts";
import type { DType } from "../../src/preview/readers/reader.types.ts";

const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
const tmp = tempDir("mata-readers-tiff-");
afterAll(() => tmp.cleanup());
let n = 0;
const dataset = () => path.join(tmp.dir, `ds${n++}`);

describe("real TIFF samples (Debian python3-skimage)", () => {
  test("30-page ImageJ stack is one volume of 30 slices", async () => {
    const [src] = await detectVolumes(SKIMAGE, ["_blobs_3d_fiji_skeleton.tif"]);
    expect(src).toMatchObject({ kind: "volume", format: "tiff-multipage", width: 32, height: 32, depth: 30, dtype: "uint8" });
    const slices = await Promise.all([0, 15, 29].map((z) => src!.readSlice(z)));
    for (const s of slices) expect(s.length).toBe(1024);
    // A skeleton: binary 0/255 values, some foreground somewhere in the middle.
    expect(new Set(slices[1]!)).toEqual(new Set([0, 255]));
    await src!.close();
  });

  test("16-bit chessboard reads the same in little- and big-endian files", async () => {
    const [le, be] = await detectVolumes(SKIMAGE, ["chessboard_GRAY_U16.tif", "chessboard_GRAY_U16B.tif"]);
    expect(le).toMatchObject({ kind: "image", width: 200, height: 200, depth: 1, dtype: "uint16" });
    expect(be).toMatchObject({ kind: "image", width: 200, height: 200, depth: 1, dtype: "uint16" });
    const a = await le!.readSlice(0);
    const b = await be!.readSlice(0);
    expect(Array.from(b)).toEqual(Array.from(a));
    // skimage ships the same board as an 8-bit numpy array: every value must match.
    const ref = await loadNpyU8(path.join(SKIMAGE, "chessboard_GRAY_U8.npy"));
    expect(ref.shape).toEqual([200, 200]);
    expect(Array.from(a)).toEqual(Array.from(ref.data));
  });
});

describe("generated TIFF", () => {
  const types: DType[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"];
  for (const dtype of types) {
    for (const le of [true, false]) {
      test(`multi-page ${dtype} ${le ? "little" : "big"}-endian, exact voxels`, async () => {
        const dir = dataset();
        writeTiff(path.join(dir, "v.tif"), { dtype, width: 9, height: 5, pages: [0, 1, 2, 3], littleEndian: le, rowsPerStrip: 2 });
        const [src] = await detectVolumes(dir, ["v.tif"]);
        expect(src).toMatchObject({ format: "tiff-multipage", width: 9, height: 5, depth: 4, dtype });
        for (const z of [0, 3, 1]) await expectPhantomSlice(src!, z);
        await src!.close();
      });
    }
  }

  for (const compression of ["deflate", "packbits"] as const) {
    for (const tile of [undefined, 16]) {
      test(`${compression} ${tile ? "tiled" : "striped"} 16-bit big-endian`, async () => {
        const dir = dataset();
        writeTiff(path.join(dir, "c.tif"), { dtype: "uint16", width: 40, height: 21, pages: [0, 1], littleEndian: false, compression, tile, rowsPerStrip: 8 });
        const [src] = await detectVolumes(dir, ["c.tif"]);
        await expectPhantomSlice(src!, 0);
        await expectPhantomSlice(src!, 1);
      });
    }
  }

  test("LZW (libtiff via sharp), striped and tiled, as a stack sorted by the number in the name", async () => {
    const dir = dataset();
    const names: string[] = [];
    for (const z of [0, 1, 2, 9, 10, 11]) {
      const name = `scan_${z}.tif`;
      await writeLzwTiff(path.join(dir, name), "uint16", 40, 33, z, z % 2 ? 16 : undefined);
      names.push(name);
    }
    const shuffled = [names[4]!, names[0]!, names[3]!, names[5]!, names[1]!, names[2]!];
    const [src, ...rest] = await detectVolumes(dir, shuffled);
    expect(rest).toEqual([]);
    expect(src).toMatchObject({ format: "tiff-stack", kind: "volume", depth: 6, dtype: "uint16", width: 40, height: 33 });
    expect(src!.files).toEqual(names);
    const slice = await src!.readSlice(3);
    // Slice 3 of the stack is the file numbered 9.
    expect(slice[5 * 40 + 7]).toBe(phantom("uint16", 7, 5, 9));
  });

  test("large LZW strips (many table resets, 12-bit codes) decode exactly, striped and tiled", async () => {
    const dir = dataset();
    await writeLzwTiff(path.join(dir, "big_1.tif"), "uint16", 700, 300, 4);
    await writeLzwTiff(path.join(dir, "big_2.tif"), "uint16", 700, 300, 5, 256);
    const [src] = await detectVolumes(dir, ["big_1.tif", "big_2.tif"]);
    expect(src!.depth).toBe(2);
    const a = await src!.readSlice(0);
    const b = await src!.readSlice(1);
    for (let y = 0; y < 300; y += 7) {
      for (let x = 0; x < 700; x += 3) {
        expect(a[y * 700 + x]).toBe(phantom("uint16", x, y, 4));
        expect(b[y * 700 + x]).toBe(phantom("uint16", x, y, 5));
      }
    }
  });

  test("BigTIFF (64-bit offsets, written by libtiff) reads like classic TIFF", async () => {
    const dir = dataset();
    await writeLzwTiff(path.join(dir, "big.tif"), "uint16", 50, 20, 3, undefined, true);
    const bytes = await Bun.file(path.join(dir, "big.tif")).bytes();
    expect(new DataView(bytes.buffer).getUint16(2, true)).toBe(43);
    const [src] = await detectVolumes(dir, ["big.tif"]);
    expect(src).toMatchObject({ width: 50, height: 20, dtype: "uint16" });
    const s = await src!.readSlice(0);
    for (let i = 0; i < s.length; i += 13) expect(s[i]).toBe(phantom("uint16", i % 50, Math.floor(i / 50), 3));
  });

  test("stack of float32 big-endian single pages, natural order beyond 9", async () => {
    const dir = dataset();
    const files: string[] = [];
    for (let z = 0; z < 12; z++) {
      files.push(`slice${z + 1}.tiff`);
      writeTiff(path.join(dir, `slice${z + 1}.tiff`), { dtype: "float32", width: 6, height: 4, pages: [z], littleEndian: false });
    }
    const [src] = await detectVolumes(dir, files.slice().reverse());
    expect(src!.files).toEqual(files);
    for (const z of [0, 9, 11]) await expectPhantomSlice(src!, z);
  });

  test("ImageJ description gives voxel size, unit and z spacing; hyperstack takes channel 0", async () => {
    const dir = dataset();
    writeTiff(path.join(dir, "ij.tif"), {
      dtype: "uint16",
      width: 8,
      height: 6,
      pages: [0, 1, 2, 3, 4, 5],
      description: "ImageJ=1.54f\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=micron\nspacing=2.5\nmin=10\nmax=900\n",
      resolution: { x: 4, y: 4, unit: 1 },
    });
    const [src] = await detectVolumes(dir, ["ij.tif"]);
    expect(src).toMatchObject({ depth: 3, unit: "µm", spacing: [0.25, 0.25, 2.5], dataRange: [10, 900] });
    expect(src!.notes).toContain("first of 2 channels shown");
    // z=1 is page 2 (channel 0 of the second slice).
    const s = await src!.readSlice(1);
    expect(s[3]).toBe(phantom("uint16", 3, 0, 2));
  });

  test("ImageJ file with one IFD and images=N is read as contiguous slices after the first strip", async () => {
    const dir = dataset();
    const file = writeTiff(path.join(dir, "big.tif"), {
      dtype: "uint16",
      width: 6,
      height: 4,
      pages: [0, 1, 2, 3],
      littleEndian: false,
      description: "ImageJ=1.54f\nimages=4\nslices=4\n",
    });
    // Cut the IFD chain after the first page, as ImageJ does for stacks over 4 GB.
    const bytes = await Bun.file(file).bytes();
    const v = new DataView(bytes.buffer);
    const ifd0 = v.getUint32(4, false);
    v.setUint32(ifd0 + 2 + v.getUint16(ifd0, false) * 12, 0, false);
    await Bun.write(file, bytes);
    const [src] = await detectVolumes(dir, ["big.tif"]);
    expect(src).toMatchObject({ format: "tiff-imagej", depth: 4, dtype: "uint16" });
    for (const z of [3, 0, 2]) await expectPhantomSlice(src!, z);
  });

  test("an RGB TIFF (libtiff via sharp) is one image shown as luminance", async () => {
    const dir = dataset();
    await writeRgb(path.join(dir, "colour.tif"), "tiff", 10, 6, 77);
    const [src] = await detectVolumes(dir, ["colour.tif"]);
    expect(src).toMatchObject({ format: "tiff", kind: "image", width: 10, height: 6, dtype: "uint8", notes: ["RGB converted to luminance"] });
    expect(new Set(await src!.readSlice(0))).toEqual(new Set([77]));
  });

  test("palette TIFF shows each colour's luminance; WhiteIsZero is inverted", async () => {
    const dir = dataset();
    // Palette: index i is gray (255 - i), stored as 16-bit ColorMap values (x257).
    const ramp = Array.from({ length: 256 }, (_, i) => (255 - i) * 257);
    writeTiff(path.join(dir, "pal.tif"), { dtype: "uint8", width: 7, height: 3, pages: [0], photometric: 3, colorMap: [...ramp, ...ramp, ...ramp] });
    writeTiff(path.join(dir, "wiz.tif"), { dtype: "uint16", width: 7, height: 3, pages: [0], photometric: 0, littleEndian: false });
    const [pal, wiz] = await detectVolumes(dir, ["pal.tif", "wiz.tif"]);
    expect(pal!.notes).toEqual(["palette colours converted to luminance"]);
    expect(wiz!.notes).toEqual(["WhiteIsZero inverted"]);
    const p = await pal!.readSlice(0);
    const w = await wiz!.readSlice(0);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 7; x++) {
        expect(p[y * 7 + x]).toBe(255 - phantom("uint8", x, y, 0));
        expect(w[y * 7 + x]).toBe(65535 - phantom("uint16", x, y, 0));
      }
    }
  });

  test("OME-TIFF: planes follow DimensionOrder (channel 0, first time point) and PhysicalSize gives the voxel size", async () => {
    const dir = dataset();
    const ome = (order: string) =>
      `<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="${order}" Type="uint16" SizeX="8" SizeY="6" SizeC="2" SizeZ="3" SizeT="1" PhysicalSizeX="0.2" PhysicalSizeY="0.2" PhysicalSizeZ="1500" PhysicalSizeZUnit="nm"><Channel ID="Channel:0:0"/></Pixels></Image></OME>`;
    writeTiff(path.join(dir, "czt.ome.tif"), { dtype: "uint16", width: 8, height: 6, pages: [0, 1, 2, 3, 4, 5], description: ome("XYCZT") });
    writeTiff(path.join(dir, "zct.ome.tif"), { dtype: "uint16", width: 8, height: 6, pages: [0, 1, 2, 3, 4, 5], description: ome("XYZCT") });
    const [czt, zct] = await detectVolumes(dir, ["czt.ome.tif", "zct.ome.tif"]);
    for (const src of [czt!, zct!]) {
      expect(src).toMatchObject({ depth: 3, unit: "µm", notes: ["first of 2 channels shown"] });
      expect(src.spacing[0]).toBeCloseTo(0.2, 9);
      expect(src.spacing[2]).toBeCloseTo(1.5, 9);
    }
    // XYCZT: z=2 is page 4; XYZCT: z=2 is page 2 (each page holds phantom slice = its index).
    expect((await czt!.readSlice(2))[9]).toBe(phantom("uint16", 1, 1, 4));
    expect((await zct!.readSlice(2))[9]).toBe(phantom("uint16", 1, 1, 2));
  });

  test("resolution tags in centimetres become millimetres", async () => {
    const dir = dataset();
    writeTiff(path.join(dir, "r.tif"), { dtype: "uint8", width: 4, height: 4, pages: [0], resolution: { x: 200, y: 100, unit: 3 } });
    const [src] = await detectVolumes(dir, ["r.tif"]);
    expect(src).toMatchObject({ kind: "image", format: "tiff", unit: "mm" });
    expect(src!.spacing[0]).toBeCloseTo(0.05, 9);
    expect(src!.spacing[1]).toBeCloseTo(0.1, 9);
  });

  test("a stack slice of another size fails that read with a clear reason", async () => {
    const dir = dataset();
    writeTiff(path.join(dir, "a_1.tif"), { dtype: "uint8", width: 8, height: 8, pages: [0] });
    writeTiff(path.join(dir, "a_2.tif"), { dtype: "uint8", width: 9, height: 8, pages: [1] });
    writeTiff(path.join(dir, "a_3.tif"), { dtype: "uint8", width: 8, height: 8, pages: [2] });
    const [src] = await detectVolumes(dir, ["a_1.tif", "a_2.tif", "a_3.tif"]);
    expect(src!.depth).toBe(3);
    const msg = await readError(src!.readSlice(1));
    expect(msg).toContain("a_2.tif");
    expect(msg).toContain("9x8");
  });

  test("truncated and bad-magic TIFFs are reported by name", async () => {
    const dir = dataset();
    const good = writeTiff(path.join(dir, "t.tif"), { dtype: "uint16", width: 64, height: 64, pages: [0, 1] });
    const bytes = await Bun.file(good).bytes();
    await Bun.write(path.join(dir, "cut.tif"), bytes.subarray(0, 3000));
    await Bun.write(path.join(dir, "magic.tif"), new TextEncoder().encode("this is not a tiff at all"));
    copyFileSync(good, path.join(dir, "ok.tif"));
    const { sources, failures } = await scanVolumes(dir, ["cut.tif", "magic.tif", "ok.tif"]);
    expect(sources.map((s) => s.file)).toEqual(["ok.tif"]);
    const messages = failures.map((f) => f.message).join("\n");
    expect(messages).toContain("cut.tif");
    expect(messages).toContain("magic.tif");
    expect(failures.every((f) => f.name === "VolumeReadError" && typeof f.file === "string")).toBe(true);
    const err = await readError(detectVolumes(dir, ["magic.tif"]));
    expect(err).toContain("magic.tif");
  });

  test("pixel data truncated after a valid header fails the slice read", async () => {
    const dir = dataset();
    const good = writeTiff(path.join(dir, "t.tif"), { dtype: "uint16", width: 64, height: 64, pages: [0] });
    // IFDs sit after the pixels in our writer: move the header's IFD pointer past the end = lying header.
    const bytes = await Bun.file(good).bytes();
    const v = new DataView(bytes.buffer);
    v.setUint32(4, bytes.length + 1000, true);
    await Bun.write(path.join(dir, "lie.tif"), bytes);
    const err = await readError(detectVolumes(dir, ["lie.tif"]));
    expect(err).toContain("lie.tif");
  });
});
