import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { truncateSync } from "node:fs";
import { detectVolumes, scanVolumes } from "../../src/preview/readers/index.ts";
import { tempDir } from "../support/env.ts";
import { phantom, writeBytes, writeMetaImage, writeNifti } from "./fixtures.ts";
import { expectPhantomSlice, readError } from "./helpers.ts";
import type { DType } from "../../src/preview/readers/reader.types.ts";

const ITK = "/usr/share/doc/insighttoolkit5-examples/examples/Data";
const NIBABEL = "/usr/lib/python3/dist-packages/nibabel/tests/data";
const tmp = tempDir("mata-readers-raw-");
afterAll(() => tmp.cleanup());
let n = 0;
const dataset = () => path.join(tmp.dir, `ds${n++}`);
const TYPES: DType[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"];

describe("MetaImage", () => {
  test("real ITK samples: .mha + .raw volume, LOCAL float data, multi-channel .mhd", async () => {
    const files = ["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw", "itkBrainSliceComplexMagnitude.mha"];
    const [three, magnitude] = await detectVolumes(ITK, files);
    expect(three).toMatchObject({ format: "metaimage", kind: "volume", width: 181, height: 217, depth: 3, dtype: "uint8", spacing: [1, 1, 1], unit: "mm" });
    expect(three!.files).toEqual(["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw"]);
    // The .raw holds the three slices back to back: slice z is bytes [z*181*217, (z+1)*181*217).
    const raw = await Bun.file(path.join(ITK, "BrainProtonDensity3Slices.raw")).bytes();
    const s2 = await three!.readSlice(2);
    expect(Array.from(s2)).toEqual(Array.from(raw.subarray(2 * 181 * 217, 3 * 181 * 217)));
    expect(magnitude).toMatchObject({ kind: "image", width: 181, height: 217, depth: 1, dtype: "float32" });
    const m = await magnitude!.readSlice(0);
    // LOCAL data starts right after the header text: the last float of the file is the last voxel.
    const whole = await Bun.file(path.join(ITK, "itkBrainSliceComplexMagnitude.mha")).bytes();
    const last = new DataView(whole.buffer).getFloat32(whole.length - 4, true);
    expect(m[m.length - 1]).toBe(last);
    await three!.close();
    await magnitude!.close();

    const [members] = await detectVolumes(ITK, ["BayesianClassifierInitializerMemberships.mhd", "BayesianClassifierInitializerMemberships.raw"]);
    expect(members!.notes).toEqual(["first of 4 channels shown"]);
    const ch0 = await members!.readSlice(0);
    const rawM = await Bun.file(path.join(ITK, "BayesianClassifierInitializerMemberships.raw")).bytes();
    expect(ch0[1000]).toBe(new DataView(rawM.buffer).getFloat32(1000 * 16, true));
  });

  for (const dtype of TYPES) {
    for (const msb of [false, true]) {
      test(`generated ${dtype} ${msb ? "MSB" : "LSB"} .mhd + .raw, exact voxels and spacing`, async () => {
        const dir = dataset();
        writeMetaImage(dir, "vol", { dtype, w: 7, h: 5, d: 4, msb });
        const [src, ...rest] = await detectVolumes(dir, ["vol.mhd", "vol.raw"]);
        expect(rest).toEqual([]);
        expect(src).toMatchObject({ width: 7, height: 5, depth: 4, dtype, spacing: [0.5, 0.25, 2], unit: "mm" });
        for (const z of [3, 0, 2]) await expectPhantomSlice(src!, z);
        await src!.close();
      });
    }
  }

  test("generated .mha with LOCAL data and zlib-compressed .zraw", async () => {
    const dir = dataset();
    writeMetaImage(dir, "local", { dtype: "int16", w: 6, h: 3, d: 5, local: true });
    writeMetaImage(dir, "packed", { dtype: "uint16", w: 6, h: 3, d: 5, compressed: true });
    const [local, packed] = await detectVolumes(dir, ["local.mha", "packed.mhd", "packed.zraw"]);
    for (const z of [0, 4, 2]) await expectPhantomSlice(local!, z);
    for (const z of [1, 4, 0, 3]) await expectPhantomSlice(packed!, z);
    expect(packed!.files).toEqual(["packed.mhd", "packed.zraw"]);
    await packed!.close();
  });

  test("lying dims, missing data file, bad type: clear reasons naming the file", async () => {
    const dir = dataset();
    writeMetaImage(dir, "big", { dtype: "uint16", w: 7, h: 5, d: 4, dimsOverride: "700 500 400" });
    writeBytes(path.join(dir, "gone.mhd"), "NDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = gone.raw\n");
    writeBytes(path.join(dir, "type.mhd"), "NDims = 3\nDimSize = 2 2 2\nElementType = MET_COMPLEX\nElementDataFile = x.raw\n");
    writeBytes(path.join(dir, "junk.mha"), "\u0000\u0001garbage without equals\n");
    writeBytes(path.join(dir, "huge.mhd"), "NDims = 3\nDimSize = 100000 100000 2\nElementType = MET_DOUBLE\nElementDataFile = huge.raw\n");
    const { sources, failures } = await scanVolumes(dir, ["big.mhd", "big.raw", "gone.mhd", "type.mhd", "junk.mha", "huge.mhd"]);
    expect(sources).toEqual([]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["big.mhd"]).toContain("700x500x400");
    expect(byFile["big.mhd"]).toContain("big.raw");
    expect(byFile["gone.raw"] ?? byFile["gone.mhd"]).toContain("missing");
    expect(byFile["type.mhd"]).toContain("MET_COMPLEX");
    expect(byFile["junk.mha"]).toContain("junk.mha");
    expect(byFile["huge.mhd"]).toContain("too large");
  });

  test("a data file truncated after detection fails the slice read, not the process", async () => {
    const dir = dataset();
    writeMetaImage(dir, "v", { dtype: "uint8", w: 10, h: 10, d: 10 });
    const [src] = await detectVolumes(dir, ["v.mhd", "v.raw"]);
    truncateSync(path.join(dir, "v.raw"), 550);
    await expectPhantomSlice(src!, 4);
    const msg = await readError(src!.readSlice(7));
    expect(msg).toContain("v.raw");
    expect(msg).toContain("truncated");
    await src!.close();
  });
});

describe("NIfTI-1", () => {
  test("real nibabel anatomical.nii and example4d.nii.gz", async () => {
    const [anat, four] = await detectVolumes(NIBABEL, ["anatomical.nii", "example4d.nii.gz"]);
    expect(anat).toMatchObject({ format: "nifti", width: 33, height: 41, depth: 25, dtype: "int16", spacing: [2, 2, 2], unit: "mm" });
    expect(four).toMatchObject({ format: "nifti", width: 128, height: 96, depth: 24, dtype: "int16", unit: "mm", dataRange: [0, 1162] });
    expect(four!.spacing[2]).toBeCloseTo(2.2, 5);
    expect(four!.notes).toEqual(["first of 2 volumes shown"]);
    // anatomical.nii is uncompressed (and big-endian): slice z is int16 at vox_offset + z*33*41*2.
    const bytes = await Bun.file(path.join(NIBABEL, "anatomical.nii")).bytes();
    const dv = new DataView(bytes.buffer);
    const le = dv.getInt32(0, true) === 348;
    expect(le).toBe(false);
    const voxOffset = dv.getFloat32(108, le);
    const s = await anat!.readSlice(12);
    for (const i of [0, 500, 1352]) expect(s[i]).toBe(dv.getInt16(voxOffset + (12 * 33 * 41 + i) * 2, le));
    // The gzip volume reads forward and back (a restart) with equal results.
    const a = await four!.readSlice(20);
    const b = await four!.readSlice(3);
    const a2 = await four!.readSlice(20);
    expect(Array.from(a2)).toEqual(Array.from(a));
    expect(b.length).toBe(128 * 96);
    await four!.close();
  });

  for (const dtype of TYPES) {
    for (const le of [true, false]) {
      for (const gz of [false, true]) {
        test(`generated ${dtype} ${le ? "LE" : "BE"}${gz ? " gzip" : ""}`, async () => {
          const dir = dataset();
          const name = `v.nii${gz ? ".gz" : ""}`;
          writeNifti(path.join(dir, name), { dtype, w: 5, h: 4, d: 6, littleEndian: le });
          const [src] = await detectVolumes(dir, [name]);
          expect(src).toMatchObject({ width: 5, height: 4, depth: 6, dtype, spacing: [0.5, 0.75, 1.5], unit: "mm" });
          for (const z of [0, 5, 2]) await expectPhantomSlice(src!, z);
          await src!.close();
        });
      }
    }
  }

  test("scl_slope/inter are kept and cal_min/cal_max become a stored-value data range", async () => {
    const dir = dataset();
    writeNifti(path.join(dir, "s.nii"), { dtype: "int16", w: 3, h: 3, d: 2, slope: 2, inter: -100, cal: [0, 400], units: 3 });
    const [src] = await detectVolumes(dir, ["s.nii"]);
    expect(src).toMatchObject({ valueScale: { slope: 2, intercept: -100 }, dataRange: [50, 250], unit: "µm" });
  });

  test("bad magic, NIfTI-2, truncated gzip and lying dims are clear errors", async () => {
    const dir = dataset();
    writeNifti(path.join(dir, "magic.nii"), { dtype: "uint8", w: 3, h: 3, d: 3, magic: "xyz\0" });
    writeNifti(path.join(dir, "lie.nii"), { dtype: "uint16", w: 3, h: 3, d: 3, dimsOverride: [3, 300, 300, 300, 1, 1, 1, 1] });
    const gz = await Bun.file(writeNifti(path.join(dir, "cut.nii.gz"), { dtype: "uint16", w: 64, h: 64, d: 8 })).bytes();
    writeBytes(path.join(dir, "cut.nii.gz"), gz.subarray(0, Math.floor(gz.length / 2)));
    const two = new Uint8Array(540);
    new DataView(two.buffer).setInt32(0, 540, true);
    writeBytes(path.join(dir, "two.nii"), two);
    const { sources, failures } = await scanVolumes(dir, ["magic.nii", "lie.nii", "cut.nii.gz", "two.nii"]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["magic.nii"]).toContain("magic");
    expect(byFile["lie.nii"]).toContain("300x300x300");
    expect(byFile["two.nii"]).toContain("NIfTI-2");
    // The gzip header is intact, so the cut shows when reading reaches the missing part.
    expect(sources.map((s) => s.file)).toEqual(["cut.nii.gz"]);
    const cut = sources[0]!;
    await cut.readSlice(0);
    const msg = await readError(cut.readSlice(7));
    expect(msg).toContain("cut.nii.gz");
    await cut.close();
  });
});

test("phantom helper sanity: values differ along each axis", () => {
  expect(phantom("uint16", 1, 0, 0)).not.toBe(phantom("uint16", 0, 1, 0));
  expect(phantom("uint16", 0, 0, 1)).not.toBe(phantom("uint16", 0, 1, 0));
});
