import { afterAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { copyFileSync, mkdirSync } from "node:fs";
import { detectVolumes, scanVolumes } from "../../src/preview/readers/index.ts";
import { tempDir } from "../support/env.ts";
import { phantom, sliceBytes, writeBytes, writeDicom, writeNrrd, writeVgi, writeXtek } from "./fixtures.ts";
import { expectPhantomSlice, readError } from "./helpers.ts";
import type { DType } from "../../src/preview/readers/reader.types.ts";

const ITK = "/usr/share/doc/insighttoolkit5-examples/examples/Data";
const PYDICOM = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
const NIBABEL = "/usr/lib/python3/dist-packages/nibabel/tests/data";
const tmp = tempDir("mata-readers-hdr-");
afterAll(() => tmp.cleanup());
let n = 0;
const dataset = () => path.join(tmp.dir, `ds${n++}`);
const TYPES: DType[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"];

describe("NRRD", () => {
  test("real ITK .nhdr + .raw, including space directions", async () => {
    const files = [
      "BrainProtonDensitySliceBorder20.nhdr",
      "BrainProtonDensitySliceBorder20.raw",
      "BrainT1SliceBorder20DirectionPlus30.nhdr",
      "BrainT1SliceBorder20DirectionPlus30.raw",
    ];
    const [pd, t1] = await detectVolumes(ITK, files);
    expect(pd).toMatchObject({ format: "nrrd", kind: "image", width: 221, height: 257, depth: 1, dtype: "uint8", unit: "mm" });
    const raw = await Bun.file(path.join(ITK, "BrainProtonDensitySliceBorder20.raw")).bytes();
    expect(Array.from(await pd!.readSlice(0))).toEqual(Array.from(raw));
    expect(t1!.spacing[0]).toBeCloseTo(1, 5);
    expect(t1!.files).toEqual(["BrainT1SliceBorder20DirectionPlus30.nhdr", "BrainT1SliceBorder20DirectionPlus30.raw"]);
  });

  for (const dtype of TYPES) {
    for (const le of [true, false]) {
      test(`generated ${dtype} ${le ? "little" : "big"} endian: attached raw, attached gzip, detached gzip`, async () => {
        const dir = dataset();
        writeNrrd(dir, "a", { dtype, w: 6, h: 5, d: 4, littleEndian: le });
        writeNrrd(dir, "b", { dtype, w: 6, h: 5, d: 4, littleEndian: le, gzip: true, directions: true });
        writeNrrd(dir, "c", { dtype, w: 6, h: 5, d: 4, littleEndian: le, gzip: true, detached: true });
        const srcs = await detectVolumes(dir, ["a.nrrd", "b.nrrd", "c.nhdr", "c.raw.gz"]);
        expect(srcs.map((s) => s.file)).toEqual(["a.nrrd", "b.nrrd", "c.nhdr"]);
        for (const s of srcs) {
          expect(s).toMatchObject({ width: 6, height: 5, depth: 4, dtype, spacing: [0.5, 0.25, 2], unit: "mm" });
          for (const z of [2, 0, 3]) await expectPhantomSlice(s, z);
          await s.close();
        }
      });
    }
  }

  test("bad magic, unsupported encoding, lying sizes", async () => {
    const dir = dataset();
    writeBytes(path.join(dir, "magic.nrrd"), "NRRX0004\ntype: uchar\n\n");
    writeBytes(path.join(dir, "ascii.nrrd"), "NRRD0004\ntype: uchar\ndimension: 2\nsizes: 2 2\nencoding: ascii\n\n1 2 3 4\n");
    writeNrrd(dir, "lie", { dtype: "uint16", w: 6, h: 5, d: 4, sizesOverride: "600 500 400" });
    const { sources, failures } = await scanVolumes(dir, ["magic.nrrd", "ascii.nrrd", "lie.nrrd"]);
    expect(sources).toEqual([]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["magic.nrrd"]).toContain("bad NRRD magic");
    expect(byFile["ascii.nrrd"]).toContain('unsupported NRRD encoding "ascii"');
    expect(byFile["lie.nrrd"]).toContain("600x500x400");
  });
});

describe("DICOM", () => {
  test("real pydicom CT_small (explicit VR LE) with rescale, and MR_small explicit/implicit/big-endian read alike", async () => {
    const [ct] = await detectVolumes(PYDICOM, ["CT_small.dcm"]);
    expect(ct).toMatchObject({
      format: "dicom",
      kind: "image",
      width: 128,
      height: 128,
      depth: 1,
      dtype: "int16",
      unit: "mm",
      valueScale: { slope: 1, intercept: -1024 },
    });
    expect(ct!.spacing[0]).toBeCloseTo(0.661468, 6);
    const slices = [];
    for (const f of ["MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm"]) {
      // Each variant in its own folder: they share one Series Instance UID.
      const dir = dataset();
      mkdirSync(dir, { recursive: true });
      copyFileSync(path.join(PYDICOM, f), path.join(dir, "slice"));
      const [src] = await detectVolumes(dir, ["slice"]);
      expect(src).toMatchObject({ width: 64, height: 64, depth: 1, dtype: "int16", spacing: [0.3125, 0.3125, 0.8] });
      slices.push(Array.from(await src!.readSlice(0)));
    }
    expect(slices[1]).toEqual(slices[0]!);
    expect(slices[2]).toEqual(slices[0]!);
    const { failures } = await scanVolumes(PYDICOM, ["MR_small_RLE.dcm"]);
    expect(failures[0]!.message).toContain("compressed DICOM (transfer syntax 1.2.840.10008.1.2.5)");
  });

  test("real nibabel 0.dcm + 1.dcm (large Siemens headers) are one 2-slice series", async () => {
    const [src] = await detectVolumes(NIBABEL, ["0.dcm", "1.dcm"]);
    expect(src).toMatchObject({ format: "dicom-series", width: 256, height: 256, depth: 2, dtype: "uint16" });
    expect((await src!.readSlice(1)).length).toBe(256 * 256);
  });

  test("generated series: grouped by Series UID, sorted by position not name, extension-less files, exact voxels", async () => {
    const dir = dataset();
    // Positions descend as names ascend; instance numbers are scrambled.
    const order = [3, 0, 4, 1, 2];
    order.forEach((z, i) =>
      writeDicom(path.join(dir, `IM${i}`), { w: 7, h: 5, z, series: "1.2.3.4", instance: 10 - i, position: 100 + 2.5 * z, implicit: i % 2 === 1 }),
    );
    writeDicom(path.join(dir, "other.dcm"), { w: 7, h: 5, z: 0, series: "9.9.9", instance: 1, position: 0, signed: true, slope: 2, intercept: -50 });
    writeBytes(path.join(dir, "README"), "not dicom, no extension");
    // A DICOMDIR: DICOM, but no image in it; it must not fail the dataset.
    const syntax = new TextEncoder().encode("1.2.840.10008.1.2.1\0");
    const dicomdir = new Uint8Array(132 + 8 + syntax.length + 12);
    dicomdir.set(new TextEncoder().encode("DICM"), 128);
    dicomdir.set([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, syntax.length, 0x00], 132);
    dicomdir.set(syntax, 140);
    // (0004,1200) UL offset of the first directory record = 0
    dicomdir.set([0x04, 0x00, 0x00, 0x12, 0x55, 0x4c, 0x04, 0x00, 0, 0, 0, 0], 140 + syntax.length);
    writeBytes(path.join(dir, "DICOMDIR"), dicomdir);
    const srcs = await detectVolumes(dir, ["DICOMDIR", "IM0", "IM1", "IM2", "IM3", "IM4", "README", "other.dcm"]);
    expect(srcs.map((s) => [s.file, s.depth])).toEqual([
      ["IM1", 5],
      ["other.dcm", 1],
    ]);
    const [series, other] = srcs;
    expect(series!.files).toEqual(["IM1", "IM3", "IM4", "IM0", "IM2"]);
    expect(series).toMatchObject({ dtype: "uint16", spacing: [0.5, 0.25, 2.5], unit: "mm" });
    for (const z of [0, 4, 2]) await expectPhantomSlice(series!, z);
    expect(other).toMatchObject({ dtype: "int16", valueScale: { slope: 2, intercept: -50 } });
    expect((await other!.readSlice(0))[8]).toBe(phantom("int16", 1, 1, 0));
  });

  test("truncated pixel data and a non-DICOM .dcm fail with the file named", async () => {
    const dir = dataset();
    writeDicom(path.join(dir, "short.dcm"), { w: 16, h: 16, z: 0, series: "1", instance: 1, position: 0, pixelBytesOverride: 100 });
    const good = writeDicom(path.join(dir, "cut.dcm"), { w: 16, h: 16, z: 0, series: "2", instance: 1, position: 0 });
    const bytes = await Bun.file(good).bytes();
    writeBytes(good, bytes.subarray(0, bytes.length - 64));
    writeBytes(path.join(dir, "text.dcm"), "hello, this is plain text and certainly not a DICOM file");
    const { sources, failures } = await scanVolumes(dir, ["short.dcm", "cut.dcm", "text.dcm"]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["short.dcm"]).toContain("needs 512");
    expect(byFile["text.dcm"]).toContain("text.dcm");
    // cut.dcm's header still declares the full length: detection or the read must name it.
    if (byFile["cut.dcm"]) expect(byFile["cut.dcm"]).toContain("cut.dcm");
    else expect(await readError(sources.find((s) => s.file === "cut.dcm")!.readSlice(0))).toContain("truncated");
  });
});

describe("Nikon XT and VGStudio", () => {
  test(".xtekct + float32 .vol with voxel size; uint16 inferred from the file size", async () => {
    const dir = dataset();
    writeXtek(dir, "part", { dtype: "float32", w: 6, h: 4, d: 3 });
    writeXtek(path.join(dir, "u16"), "scan", { dtype: "uint16", w: 6, h: 4, d: 3 });
    const [f32, u16] = await detectVolumes(dir, ["part.xtekct", "part.vol", "u16/scan.xtekct", "u16/scan.vol"]);
    expect(f32).toMatchObject({
      format: "nikon-xtek",
      dtype: "float32",
      width: 6,
      height: 4,
      depth: 3,
      spacing: [0.012, 0.012, 0.013],
      unit: "mm",
      files: ["part.xtekct", "part.vol"],
    });
    expect(u16).toMatchObject({ dtype: "uint16" });
    for (const z of [0, 2]) {
      await expectPhantomSlice(f32!, z);
      await expectPhantomSlice(u16!, z);
    }
  });

  test("lying .xtekct and missing .vol are clear errors", async () => {
    const dir = dataset();
    writeXtek(dir, "lie", { dtype: "float32", w: 6, h: 4, d: 3, voxelsZOverride: 3000 });
    writeBytes(path.join(dir, "alone.xtekct"), "[XTekCT]\nVoxelsX=2\nVoxelsY=2\nVoxelsZ=2\n");
    const { failures } = await scanVolumes(dir, ["lie.xtekct", "lie.vol", "alone.xtekct"]);
    const byFile = Object.fromEntries(failures.map((f) => [f.file, f.message]));
    expect(byFile["lie.xtekct"]).toContain("6x4x3000");
    expect(byFile["alone.xtekct"]).toContain("missing");
  });

  test(".vgi + .vol with skipped header bytes, data range and resolution", async () => {
    const dir = dataset();
    writeVgi(dir, "v16", { dtype: "uint16", w: 5, h: 4, d: 3, skip: 64 });
    writeVgi(dir, "vf", { dtype: "float32", w: 5, h: 4, d: 3 });
    const [v16, vf] = await detectVolumes(dir, ["v16.vgi", "v16.vol", "vf.vgi", "vf.vol"]);
    expect(v16).toMatchObject({ format: "vgstudio", dtype: "uint16", spacing: [0.05, 0.05, 0.06], unit: "mm", dataRange: [100, 3000] });
    expect(vf).toMatchObject({ dtype: "float32" });
    for (const z of [0, 2]) {
      await expectPhantomSlice(v16!, z);
      await expectPhantomSlice(vf!, z);
    }
    writeBytes(path.join(dir, "v16.vol"), new Uint8Array(100));
    expect(await readError(detectVolumes(dir, ["v16.vgi", "v16.vol"]))).toContain("v16.vol");
  });
});

describe("one raw file per slice", () => {
  test("MetaImage LIST and %d pattern, NRRD LIST and pattern: exact voxels, every file claimed", async () => {
    const dir = dataset();
    const names: string[] = [];
    for (let z = 0; z < 4; z++) {
      const name = `sl${String(z + 1).padStart(3, "0")}.raw`;
      writeBytes(path.join(dir, name), sliceBytes("int16", 6, 5, z, false));
      names.push(name);
    }
    writeBytes(
      path.join(dir, "list.mhd"),
      `NDims = 3\nDimSize = 6 5 4\nElementType = MET_SHORT\nElementByteOrderMSB = True\nElementSpacing = 1 1 3\nElementDataFile = LIST\n${names.join("\n")}\n`,
    );
    writeBytes(
      path.join(dir, "pat.mhd"),
      "NDims = 3\nDimSize = 6 5 4\nElementType = MET_SHORT\nBinaryDataByteOrderMSB = True\nElementDataFile = sl%03d.raw 1 4 1\n",
    );
    writeBytes(
      path.join(dir, "list.nhdr"),
      `NRRD0004\ntype: short\ndimension: 3\nsizes: 6 5 4\nencoding: raw\nendian: big\ndata file: LIST\n${names.join("\n")}\n`,
    );
    writeBytes(path.join(dir, "pat.nhdr"), "NRRD0004\ntype: short\ndimension: 3\nsizes: 6 5 4\nencoding: raw\nendian: big\ndata file: sl%03d.raw 1 4 1 2\n");
    const srcs = await detectVolumes(dir, ["list.mhd", "pat.mhd", "list.nhdr", "pat.nhdr", ...names]);
    expect(srcs.map((s) => s.file)).toEqual(["list.mhd", "list.nhdr", "pat.mhd", "pat.nhdr"]);
    for (const s of srcs) {
      expect(s.files.slice(1)).toEqual(names);
      expect(s).toMatchObject({ width: 6, height: 5, depth: 4, dtype: "int16" });
      for (const z of [3, 0, 1]) await expectPhantomSlice(s, z);
    }
    // A short slice file fails that slice's read, naming it.
    writeBytes(path.join(dir, names[2]!), new Uint8Array(10));
    expect(await readError(srcs[0]!.readSlice(2))).toContain("sl003.raw");
  });
});

test("headers naming data outside the dataset folder are refused (no reading other files through previews)", async () => {
  const root = dataset();
  const dir = path.join(root, "ds");
  writeBytes(path.join(root, "secret.raw"), new Uint8Array(8).fill(42));
  writeBytes(path.join(dir, "up.mhd"), "NDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = ../secret.raw\n");
  writeBytes(path.join(dir, "abs.nhdr"), "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: /etc/hostname\n");
  writeBytes(path.join(dir, "list.nhdr"), "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: LIST\nok.raw\n../../secret.raw\n");
  writeBytes(path.join(dir, "ok.raw"), new Uint8Array(4));
  const { sources, failures } = await scanVolumes(dir, ["up.mhd", "abs.nhdr", "list.nhdr", "ok.raw"]);
  expect(sources).toEqual([]);
  expect(failures.map((f) => f.file).sort()).toEqual(["abs.nhdr", "list.nhdr", "up.mhd"]);
  for (const f of failures) expect(f.message).toContain("outside the dataset folder");
});
