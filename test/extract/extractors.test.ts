// Every built-in extractor on real files (Debian's sample packages) or files generated from the scanner's documented
// layout, read through the preview readers beneath the share root; broken headers give a clear problem, never a crash.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { extractFiles, type Extracted } from "../../src/extract/extractors.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { testContext } from "../support/env.ts";
import { writeBmp, writeTiff, writeVgi } from "../readers/fixtures.ts";
import { ITK, NIBABEL, PYDICOM, SKIMAGE, identifyingAttributes, skyScanLog, writeDicomWith, writeNikon } from "./fixtures.ts";

const ctx = testContext();
afterAll(() => ctx.cleanup());
let n = 0;

/** A fresh dataset folder under the share root, with the given files copied or written into it. */
function dataset(): string {
  const dir = path.join(ctx.config.root, `ds${n++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function copy(dir: string, from: string, names: string[]): void {
  for (const name of names) copyFileSync(path.join(from, name), path.join(dir, name));
}

async function extract(dir: string, files: string[]): Promise<Extracted> {
  return extractFiles(dir, files, new AbortController().signal);
}

/** A subtree as "key=value" lines, children indented, for readable comparisons. */
function flat(node: TagNode | null, indent = ""): string[] {
  if (!node) return [];
  return [`${indent}${node.key}=${node.value}`, ...node.children.flatMap((c) => flat(c, `${indent}  `))];
}

const scan = (e: Extracted) => Object.fromEntries((e.scan?.children ?? []).map((c) => [c.key, c.value]));
const image = (e: Extracted) => Object.fromEntries((e.image?.children ?? []).map((c) => [c.key, c.value]));

describe("scanner text headers", () => {
  test("Nikon .xtekct: settings with their units, size, type and spacing", async () => {
    const dir = dataset();
    writeNikon(dir, "femur", { w: 6, h: 5, d: 4 });
    const e = await extract(dir, ["femur.vol", "femur.xtekct"]);
    expect(flat(e.scan)).toEqual([
      "Scan=",
      "  Manufacturer=Nikon",
      "  Voltage=90 kV",
      "  Current=112 µA",
      "  Filter=0.5 mm Copper",
      "  Projections=3142",
      "  Source to object=39.5826 mm",
      "  Source to detector=1127.82 mm",
    ]);
    expect(flat(e.image)).toEqual(["Image=", "  File=femur.xtekct", "  Format=nikon-xtek", "  Size=6 x 5 x 4", "  Type=uint16", "  Spacing=0.0125 mm"]);
    expect(e.problems).toEqual([]);
    expect(e.identifiers.size).toBe(0);
  });

  test("Nikon .xtekVolume is read the same way", async () => {
    const dir = dataset();
    writeNikon(dir, "tooth", { w: 3, h: 3, d: 2 });
    const text = readFileSync(path.join(dir, "tooth.xtekct"));
    writeFileSync(path.join(dir, "tooth.xtekVolume"), text);
    const e = await extract(dir, ["tooth.vol", "tooth.xtekVolume"]);
    expect(scan(e).Voltage).toBe("90 kV");
    expect(image(e).Format).toBe("nikon-xtek");
  });

  test("SkyScan _rec.log beside its reconstructed BMP stack: settings, date only, the stack's spacing in µm", async () => {
    const dir = dataset();
    for (let z = 0; z < 3; z++) writeBmp(path.join(dir, `femur_rec0000000${z}.bmp`), 8, 6, z, 8);
    writeFileSync(path.join(dir, "femur_rec.log"), skyScanLog({ pixelUm: 12.5, width: 8, height: 6 }));
    const files = ["femur_rec.log", "femur_rec00000000.bmp", "femur_rec00000001.bmp", "femur_rec00000002.bmp"];
    const e = await extract(dir, files);
    expect(scan(e)).toEqual({
      Manufacturer: "Bruker",
      Model: "SkyScan1172",
      Voltage: "80 kV",
      Current: "124 µA",
      Exposure: "1180 ms",
      Filter: "Al 0.5 mm",
      Projections: "601",
      "Rotation step": "0.4 °",
      "Frame averaging": "ON (4)",
      "Pixel size": "12.5 µm",
      Date: "2013-01-04",
    });
    expect(image(e)).toMatchObject({ Format: "bmp-stack", Size: "8 x 6 x 3", Type: "uint8", Spacing: "12.5 µm" });
    // The operator's name in [User] is no setting: never copied.
    expect(JSON.stringify(e.scan)).not.toContain("operator");
  });

  test("an acquisition .log works alone; a .log that is no SkyScan log gives nothing", async () => {
    const dir = dataset();
    writeFileSync(path.join(dir, "femur_.log"), skyScanLog({ pixelUm: 9, width: 1, height: 1 }).replace(/\[Reconstruction\][\s\S]*$/, ""));
    writeFileSync(path.join(dir, "notes.log"), "copied with robocopy\nVoltage=1000\n");
    const e = await extract(dir, ["femur_.log", "notes.log"]);
    expect(scan(e)).toMatchObject({ Model: "SkyScan1172", "Pixel size": "9 µm" });
    const other = dataset();
    writeFileSync(path.join(other, "notes.log"), "copied with robocopy\nVoltage=1000\n");
    expect((await extract(other, ["notes.log"])).scan).toBeNull();
  });

  test("VGStudio .vgi: size, type and anisotropic spacing", async () => {
    const dir = dataset();
    writeVgi(dir, "part", { dtype: "uint16", w: 4, h: 3, d: 2 });
    const e = await extract(dir, ["part.vgi", "part.vol"]);
    expect(image(e)).toEqual({ File: "part.vgi", Format: "vgstudio", Size: "4 x 3 x 2", Type: "uint16", Spacing: "0.05 x 0.05 x 0.06 mm" });
    expect(e.scan).toBeNull();
  });
});

describe("image formats", () => {
  test("ImageJ TIFF (real skimage stack): ImageJ version and the stack's geometry", async () => {
    const dir = dataset();
    copy(dir, SKIMAGE, ["_blobs_3d_fiji_skeleton.tif"]);
    const e = await extract(dir, ["_blobs_3d_fiji_skeleton.tif"]);
    expect(scan(e).Software).toMatch(/^ImageJ 1\.\d+/);
    expect(image(e)).toMatchObject({ Format: "tiff-multipage", Size: "32 x 32 x 30", Type: "uint8" });
  });

  test("OME-TIFF description: microscope, objective, acquisition date, physical sizes", async () => {
    const dir = dataset();
    const ome =
      '<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Instrument ID="Instrument:0">' +
      '<Microscope Manufacturer="Zeiss" Model="LSM 980"/><Objective ID="Objective:0" NominalMagnification="63" LensNA="1.4"/></Instrument>' +
      '<Image ID="Image:0"><AcquisitionDate>2023-05-17T09:12:44</AcquisitionDate><Pixels DimensionOrder="XYZCT" Type="uint16" SizeX="5" SizeY="4" SizeZ="2" SizeC="1" SizeT="1" ' +
      'PhysicalSizeX="0.1" PhysicalSizeXUnit="µm" PhysicalSizeY="0.1" PhysicalSizeYUnit="µm" PhysicalSizeZ="0.3" PhysicalSizeZUnit="µm"/></Image></OME>';
    writeTiff(path.join(dir, "cells.ome.tif"), { dtype: "uint16", width: 5, height: 4, pages: [0, 1], description: ome });
    const e = await extract(dir, ["cells.ome.tif"]);
    expect(scan(e)).toEqual({ Microscope: "Zeiss LSM 980", Objective: "63x NA 1.4", Date: "2023-05-17" });
    expect(image(e)).toMatchObject({ Size: "5 x 4 x 2", Type: "uint16", Spacing: "0.1 x 0.1 x 0.3 µm" });
  });

  test("NIfTI (real nibabel files, plain and gzip): description, size, type, spacing", async () => {
    const dir = dataset();
    copy(dir, NIBABEL, ["anatomical.nii"]);
    const e = await extract(dir, ["anatomical.nii"]);
    expect(scan(e)).toEqual({ Description: "spm - 3D normalized" });
    expect(image(e)).toMatchObject({ Format: "nifti", Size: "33 x 41 x 25", Type: "int16", Spacing: "2 mm" });
    const gz = dataset();
    copy(gz, NIBABEL, ["example4d.nii.gz"]);
    const g = await extract(gz, ["example4d.nii.gz"]);
    expect(scan(g).Description).toBe("FSL3.3");
    expect(image(g)).toMatchObject({ Size: "128 x 96 x 24", Type: "int16", Spacing: "2 x 2 x 2.2 mm" });
  });

  test("NRRD (real ITK .nhdr + .raw) and its content field", async () => {
    const dir = dataset();
    copy(dir, ITK, ["BrainProtonDensitySliceBorder20.nhdr", "BrainProtonDensitySliceBorder20.raw"]);
    const e = await extract(dir, ["BrainProtonDensitySliceBorder20.nhdr", "BrainProtonDensitySliceBorder20.raw"]);
    expect(image(e)).toMatchObject({ Format: "nrrd", Size: "221 x 257", Type: "uint8", Spacing: "1 mm" });
    const header = readFileSync(path.join(ITK, "BrainProtonDensitySliceBorder20.nhdr"), "latin1").replace(
      "dimension: 2",
      "content: proton density slice\ndimension: 2",
    );
    writeFileSync(path.join(dir, "BrainProtonDensitySliceBorder20.nhdr"), header, "latin1");
    expect(scan(await extract(dir, ["BrainProtonDensitySliceBorder20.nhdr", "BrainProtonDensitySliceBorder20.raw"]))).toEqual({
      Description: "proton density slice",
    });
  });

  test("MetaImage (real ITK .mha and .mhd) and its Modality", async () => {
    const dir = dataset();
    copy(dir, ITK, ["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw"]);
    const e = await extract(dir, ["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw"]);
    expect(image(e)).toMatchObject({ Format: "metaimage", Size: "181 x 217 x 3", Type: "uint8", Spacing: "1 mm" });
    const text = readFileSync(path.join(ITK, "BrainProtonDensity3Slices.mha"), "latin1");
    writeFileSync(path.join(dir, "BrainProtonDensity3Slices.mha"), `Modality = MET_MOD_MR\n${text}`, "latin1");
    expect(scan(await extract(dir, ["BrainProtonDensity3Slices.mha", "BrainProtonDensity3Slices.raw"]))).toEqual({ Modality: "MR" });
  });

  test("DICOM (real pydicom CT): modality, maker, model, kVp, exposure, thickness, spacing, study date only", async () => {
    const dir = dataset();
    copy(dir, PYDICOM, ["CT_small.dcm"]);
    const e = await extract(dir, ["CT_small.dcm"]);
    expect(scan(e)).toEqual({
      Manufacturer: "GE MEDICAL SYSTEMS",
      Model: "RHAPSODE",
      Modality: "CT",
      Voltage: "120 kV",
      "Tube current": "170 mA",
      Exposure: "170 mAs",
      "Exposure time": "1601 ms",
      "Slice thickness": "5 mm",
      "Pixel spacing": "0.661468 mm",
      Date: "2004-01-19",
    });
    expect(image(e)).toMatchObject({ Format: "dicom", Size: "128 x 128", Type: "int16", Spacing: "0.661468 mm" });
    // Its patient's name, id, sex and institution are flagged by name (other ids in a sequence too); empty ones (birth
    // date, accession number) are not.
    expect([...e.identifiers.keys()].sort()).toEqual([
      "InstitutionName",
      "OtherPatientIDsSequence",
      "PatientAge",
      "PatientID",
      "PatientName",
      "PatientSex",
      "PatientWeight",
      "StationName",
      "StudyID",
    ]);
    expect(JSON.stringify([e.scan, e.image])).not.toMatch(/CompressedSamples|1CT1|JFK|072730/);
  });

  test("an extension-less DICOM series is found by its DICM marker; identifiers are counted per file and found in sequences", async () => {
    const dir = dataset();
    writeDicomWith(path.join(dir, "IM0001"), identifyingAttributes());
    writeDicomWith(path.join(dir, "IM0002"), identifyingAttributes());
    const e = await extract(dir, ["IM0001", "IM0002"]);
    expect(scan(e)).toMatchObject({
      Modality: "CT",
      Manufacturer: "Siemens",
      Model: "SOMATOM Force",
      Voltage: "120 kV",
      Exposure: "250 mAs",
      Date: "2019-03-11",
    });
    expect(Object.fromEntries(e.identifiers)).toEqual({ PatientAddress: 2, PatientBirthDate: 2, PatientID: 2, PatientName: 2, RequestedProcedureID: 2 });
  });

  test("several images get one child each, keyed by file", async () => {
    const dir = dataset();
    writeVgi(dir, "a", { dtype: "uint8", w: 2, h: 2, d: 2 });
    writeNikon(dir, "b", { w: 3, h: 2, d: 2 });
    const e = await extract(dir, ["a.vgi", "a.vol", "b.vol", "b.xtekct"]);
    expect(e.image?.value).toBe("2 images");
    expect(e.image?.children.map((c) => `${c.key}: ${c.children.map((g) => g.value).join(", ")}`)).toEqual([
      "a.vgi: vgstudio, 2 x 2 x 2, uint8, 0.05 x 0.05 x 0.06 mm",
      "b.xtekct: nikon-xtek, 3 x 2 x 2, uint16, 0.0125 mm",
    ]);
  });
});

describe("absurd and truncated headers", () => {
  test("each broken file is a clear problem naming it; the good files beside it are still extracted", async () => {
    const dir = dataset();
    writeNikon(dir, "good", { w: 2, h: 2, d: 2 });
    // Absurd: a billion voxels a side; truncated: half a NIfTI header, the real truncated pydicom file; garbage NRRD.
    writeFileSync(path.join(dir, "huge.xtekct"), "[XTekCT]\r\nVoxelsX=99999999999\r\nVoxelsY=2\r\nVoxelsZ=2\r\nXraykV=1e400\r\n");
    writeFileSync(path.join(dir, "half.nii"), readFileSync(path.join(NIBABEL, "anatomical.nii")).subarray(0, 200));
    writeFileSync(path.join(dir, "huge.vol"), new Uint8Array(16));
    writeFileSync(path.join(dir, "cut.dcm"), readFileSync(path.join(PYDICOM, "CT_small.dcm")).subarray(0, 900));
    writeFileSync(
      path.join(dir, "noise.nrrd"),
      new Uint8Array(300).map((_, i) => (i * 97) & 0xff),
    );
    writeFileSync(path.join(dir, "bad.mhd"), "NDims = 3\nDimSize = -4 0 NaN\nElementType = MET_UCHAR\nElementDataFile = ../../etc/passwd\n");
    writeFileSync(path.join(dir, "nothing.dcm"), new Uint8Array(10));
    const files = ["bad.mhd", "cut.dcm", "good.vol", "good.xtekct", "half.nii", "huge.vol", "huge.xtekct", "noise.nrrd", "nothing.dcm"];
    const e = await extract(dir, files);
    expect(scan(e).Voltage).toBe("90 kV");
    expect(image(e).File).toBe("good.xtekct");
    const problems = e.problems.join("\n");
    for (const f of ["bad.mhd", "cut.dcm", "half.nii", "huge.vol", "noise.nrrd", "nothing.dcm"]) expect(problems).toContain(`${f}: `);
    expect(problems).toContain("truncated NIfTI header");
    expect(problems).toContain("header huge.xtekct says 99999999999x2x2 voxels");
    expect(problems).not.toContain("unexpected error");
  });

  test("a header of control bytes and a 10,000-character line become printable, bounded values", async () => {
    const dir = dataset();
    writeNikon(dir, "odd", { w: 2, h: 2, d: 2 });
    const text = readFileSync(path.join(dir, "odd.xtekct"), "latin1")
      .replace("XraykV=90", "XraykV=ninety")
      .replace("Filter_Material=Copper", `Filter_Material=Cu\u0001\u0007${"x".repeat(10_000)}`);
    writeFileSync(path.join(dir, "odd.xtekct"), text, "latin1");
    const e = await extract(dir, ["odd.vol", "odd.xtekct"]);
    expect(scan(e).Voltage).toBeUndefined(); // no number, no value
    const filter = scan(e).Filter!;
    expect(filter.length).toBeLessThanOrEqual(4096);
    expect(filter).not.toMatch(/[\u0000-\u001f]/);
    expect(filter).toStartWith("0.5 mm Cu\\x01\\x07x");
  });
});
