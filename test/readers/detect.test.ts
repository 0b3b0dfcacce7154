import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { detectVolumes, displayWindow, percentileWindow, scanVolumes } from "../../src/preview/readers/index.ts";
import { groupNumbered } from "../../src/preview/readers/stack.ts";
import type { SliceData, VolumeSource } from "../../src/preview/readers/reader.types.ts";
import { tempDir } from "../support/env.ts";
import { writeBmp, writeMetaImage, writeNifti, writeTiff } from "./fixtures.ts";
import { expectPhantomSlice } from "./helpers.ts";

const tmp = tempDir("mata-readers-detect-");
afterAll(() => tmp.cleanup());

describe("grouping numbered files", () => {
  test("the last varying number is the slice index; other varying numbers split stacks", () => {
    const groups = groupNumbered(["s/c2_z10.tif", "s/c1_z2.tif", "s/c1_z10.tif", "s/c2_z2.tif", "s/c1_z1.tif", "other.tif", "s/c2_z1.tif"]);
    const lists = groups.map((g) => g.files).sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(lists).toEqual([["other.tif"], ["s/c1_z1.tif", "s/c1_z2.tif", "s/c1_z10.tif"], ["s/c2_z1.tif", "s/c2_z2.tif", "s/c2_z10.tif"]]);
  });

  test("different folders and extensions never mix", () => {
    const groups = groupNumbered(["a/x1.tif", "a/x2.tif", "b/x3.tif", "a/x3.tiff"]);
    expect(groups.map((g) => g.files.length).sort()).toEqual([1, 1, 2]);
  });
});

describe("detectVolumes over a mixed dataset", () => {
  test("one source per volume or image; data files and stack slices are not reported again; sidecar ignored", async () => {
    const dir = path.join(tmp.dir, "mixed");
    writeMetaImage(path.join(dir, "ct"), "scan", { dtype: "uint16", w: 4, h: 4, d: 3 });
    writeNifti(path.join(dir, "mri/brain.nii.gz"), { dtype: "int16", w: 4, h: 4, d: 2 });
    for (let z = 0; z < 5; z++) writeTiff(path.join(dir, `stack/img_${z}.tif`), { dtype: "uint8", width: 3, height: 3, pages: [z] });
    writeTiff(path.join(dir, "pages.tif"), { dtype: "uint8", width: 3, height: 3, pages: [0, 1] });
    writeTiff(path.join(dir, ".mata/thumb.tif"), { dtype: "uint8", width: 3, height: 3, pages: [0] });
    const files = [
      "ct/scan.mhd",
      "ct/scan.raw",
      "mri/brain.nii.gz",
      "notes.txt",
      "pages.tif",
      ".mata/thumb.tif",
      ...[0, 1, 2, 3, 4].map((z) => `stack/img_${z}.tif`),
    ];
    await Bun.write(path.join(dir, "notes.txt"), "hello");
    const srcs = await detectVolumes(dir, files);
    expect(srcs.map((s) => [s.file, s.format, s.depth])).toEqual([
      ["ct/scan.mhd", "metaimage", 3],
      ["mri/brain.nii.gz", "nifti", 2],
      ["pages.tif", "tiff-multipage", 2],
      ["stack/img_0.tif", "tiff-stack", 5],
    ]);
    await Promise.all(srcs.map((s) => s.close()));
  });

  test("a broken file fails detectVolumes by name, while scanVolumes keeps the good ones", async () => {
    const dir = path.join(tmp.dir, "partly");
    writeNifti(path.join(dir, "good.nii"), { dtype: "uint8", w: 2, h: 2, d: 2 });
    await Bun.write(path.join(dir, "bad.nii"), "short");
    const { sources, failures } = await scanVolumes(dir, ["good.nii", "bad.nii"]);
    expect(sources.map((s) => s.file)).toEqual(["good.nii"]);
    expect(failures.map((f) => f.file)).toEqual(["bad.nii"]);
    await expect(detectVolumes(dir, ["good.nii", "bad.nii"])).rejects.toThrow(/bad\.nii.*truncated NIfTI header/);
  });

  test("readSlice rejects indices outside the volume", async () => {
    const dir = path.join(tmp.dir, "range");
    writeNifti(path.join(dir, "v.nii"), { dtype: "uint8", w: 2, h: 2, d: 2 });
    const [src] = await detectVolumes(dir, ["v.nii"]);
    await expect(src!.readSlice(2)).rejects.toThrow(/outside 0\.\.1/);
  });
});

/** A synthetic source with chosen slices, to check the window arithmetic exactly. */
function fakeSource(dtype: VolumeSource["dtype"], slices: SliceData[], dataRange?: [number, number]): VolumeSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    kind: "volume",
    format: "test",
    file: "t",
    files: ["t"],
    width: slices[0]!.length,
    height: 1,
    depth: slices.length,
    dtype,
    spacing: [1, 1, 1],
    unit: "px",
    ...(dataRange ? { dataRange } : {}),
    reads,
    async readSlice(z) {
      reads.push(z);
      return slices[z]!;
    },
    async close() {},
  };
}

describe("display window", () => {
  test("16-bit percentiles are exact: 1% outliers on each side are cut", async () => {
    const slices: SliceData[] = [];
    for (let z = 0; z < 4; z++) {
      const s = new Uint16Array(1000);
      for (let i = 0; i < 1000; i++) s[i] = 1000 + i; // 1000..1999
      for (let i = 0; i < 3; i++) s[i] = 0; // 0.3% dark outliers
      for (let i = 997; i < 1000; i++) s[i] = 65535; // 0.3% bright outliers
      slices.push(s);
    }
    const [lo, hi] = await percentileWindow(fakeSource("uint16", slices));
    // Nearest rank over 4000 samples: the 21st value (1005) and the 3981st (1995).
    expect([lo, hi]).toEqual([1005, 1995]);
  });

  test("int16 and int8 negative values", async () => {
    const s = new Int16Array(2000);
    for (let i = 0; i < 2000; i++) s[i] = i - 1000;
    const [lo, hi] = await percentileWindow(fakeSource("int16", [s]));
    // Nearest rank: the 11th (-990) and the 1991st (990) of 2000 values.
    expect(lo).toBe(-990);
    expect(hi).toBe(990);
    const b = new Int8Array(256);
    for (let i = 0; i < 256; i++) b[i] = i - 128;
    const [lo8, hi8] = await percentileWindow(fakeSource("int8", [b]), { low: 0, high: 100 });
    expect([lo8, hi8]).toEqual([-128, 127]);
  });

  test("float data: adaptive histogram stays within a bin of the true percentile as slices widen the range", async () => {
    const slices: SliceData[] = [];
    for (let z = 0; z < 8; z++) {
      const s = new Float32Array(10_000);
      for (let i = 0; i < s.length; i++) s[i] = (i / s.length) * (z + 1) * 0.001 - 0.5; // later slices widen the range
      slices.push(s);
    }
    slices[3]![0] = NaN;
    const all = slices.flatMap((s) => Array.from(s).filter(Number.isFinite)).sort((a, b) => a - b);
    const want = (q: number) => all[Math.floor(q * all.length)]!;
    const [lo, hi] = await percentileWindow(fakeSource("float32", slices), { slices: 8 });
    const tolerance = (all.at(-1)! - all[0]!) / 1000;
    expect(Math.abs(lo - want(0.005))).toBeLessThan(tolerance);
    expect(Math.abs(hi - want(0.995))).toBeLessThan(tolerance);
  });

  test("samples evenly spaced slices in increasing order, constant data still gives high > low", async () => {
    const slices = Array.from({ length: 100 }, () => new Uint8Array(16).fill(7));
    const src = fakeSource("uint8", slices);
    const [lo, hi] = await percentileWindow(src, { slices: 5 });
    expect([lo, hi]).toEqual([7, 8]);
    expect(src.reads).toEqual([10, 30, 50, 70, 90]);
  });

  test("the header's data range wins when present", async () => {
    const src = fakeSource("uint16", [new Uint16Array([1, 2, 3])], [100, 4000]);
    expect(await displayWindow(src)).toEqual({ window: [100, 4000], from: "header" });
    expect(src.reads).toEqual([]);
    const plain = fakeSource("uint16", [new Uint16Array([1, 2, 3])]);
    expect((await displayWindow(plain)).from).toBe("percentiles");
  });
});

describe("companions", () => {
  test("NIfTI .hdr/.img pair; a non-NIfTI .hdr is ignored", async () => {
    const dir = path.join(tmp.dir, "pair");
    const bytes = await Bun.file(writeNifti(path.join(dir, "tmp.nii"), { dtype: "int16", w: 4, h: 3, d: 2, magic: "ni1\0" })).bytes();
    const hdr = bytes.slice(0, 348);
    new DataView(hdr.buffer).setFloat32(108, 0, true);
    await Bun.write(path.join(dir, "brain.hdr"), hdr);
    await Bun.write(path.join(dir, "brain.img"), bytes.subarray(352));
    await Bun.write(path.join(dir, "envi.hdr"), "ENVI\nsamples = 3\n");
    const [src, ...rest] = await detectVolumes(dir, ["brain.hdr", "brain.img", "envi.hdr"]);
    expect(rest).toEqual([]);
    expect(src).toMatchObject({ format: "nifti", files: ["brain.hdr", "brain.img"], depth: 2 });
    await expectPhantomSlice(src!, 1);
  });

  test("a SkyScan *_rec.log gives the voxel size of the reconstruction stack beside it", async () => {
    const dir = path.join(tmp.dir, "skyscan");
    const files: string[] = [];
    for (let z = 0; z < 3; z++) {
      writeBmp(path.join(dir, "rec", `bone_rec${String(z).padStart(8, "0")}.bmp`), 5, 4, z, 8);
      files.push(`rec/bone_rec${String(z).padStart(8, "0")}.bmp`);
    }
    await Bun.write(path.join(dir, "rec", "bone_rec.log"), "[System]\r\nScanner=Skyscan1172\r\n[Reconstruction]\r\nPixel Size (um)=4.87\r\n");
    const [src] = await detectVolumes(dir, [...files, "rec/bone_rec.log"]);
    expect(src).toMatchObject({ format: "bmp-stack", depth: 3, spacing: [4.87, 4.87, 4.87], unit: "µm" });
  });
});
