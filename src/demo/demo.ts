// The demo root `mata serve` starts with when no root is configured: a few real datasets made from generated
// data (no network, no system packages), in the formats researchers bring: TIFF stacks, PNG, STL, MetaImage.
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { encodeTiffSlice } from "./tiff-writer.ts";
import { kneePhantom, lungBiopsyPhantom, sliceOf, type Volume } from "./phantoms.ts";
import { histologyPixels } from "./histology.ts";
import { encodeBinaryStl, vesselTriangles } from "./mesh.ts";

export { DEMO_METADATA, type DemoDatasetMetadata } from "./demo.metadata.ts";

/**
 * Fills an empty demo root with a few real datasets; a root that has anything in it is left alone.
 * The datasets are made in a hidden sibling folder and renamed into place, so a crash never leaves half a demo.
 */
export async function seedDemoRoot(root: string): Promise<boolean> {
  if (existsSync(root) && readdirSync(root).length > 0) return false;
  const parent = path.dirname(path.resolve(root));
  const base = path.basename(root);
  mkdirSync(parent, { recursive: true });
  // Leftovers of a seeding that was killed.
  for (const name of readdirSync(parent)) if (name.startsWith(`.${base}.seeding-`)) rmSync(path.join(parent, name), { recursive: true, force: true });
  const staging = path.join(parent, `.${base}.seeding-${process.pid}`);
  mkdirSync(staging);
  try {
    await writeDemoDatasets(staging);
    if (existsSync(root)) {
      if (readdirSync(root).length > 0) return false; // someone filled it meanwhile: theirs wins
      rmdirSync(root);
    }
    renameSync(staging, root);
    return true;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Writes every demo dataset folder under `dir`. */
export async function writeDemoDatasets(dir: string): Promise<void> {
  const { ct, labels } = lungBiopsyPhantom();
  writeStack(path.join(dir, "lung-biopsy-CT-001"), "rec", ct);
  writeFile(
    path.join(dir, "lung-biopsy-CT-001", "acquisition.txt"),
    `Scanner: benchtop micro-CT (synthetic)\nVoltage: 50 kV\nCurrent: 200 uA\nPixel size: ${ct.spacing} um\nSlices: ${ct.depth}\nReconstruction: FDK, 16-bit\n`,
  );
  writeStack(path.join(dir, "lung-biopsy-CT-001-segmentation"), "mask", labels);
  writeFile(path.join(dir, "lung-biopsy-CT-001-segmentation", "labels.txt"), "0\tair and sample holder\n1\ttissue\n2\tnodule\n");

  const width = 1024;
  const height = 768;
  const png = await sharp(histologyPixels(width, height), { raw: { width, height, channels: 3 } })
    .withMetadata({ density: 25.4 / 0.0005 })
    .png({ compressionLevel: 6 })
    .toBuffer();
  writeFile(path.join(dir, "lung-biopsy-histology-001", "HE-section-01.png"), png);

  writeFile(path.join(dir, "vessel-surface-001", "vessel.stl"), encodeBinaryStl(vesselTriangles()));

  const knee = kneePhantom();
  const name = "sheep-knee-CT-002";
  writeFile(path.join(dir, name, `${name}.raw`), new Uint8Array(knee.data.buffer, knee.data.byteOffset, knee.data.byteLength));
  writeFile(
    path.join(dir, name, `${name}.mhd`),
    [
      "ObjectType = Image",
      "NDims = 3",
      "BinaryData = True",
      "BinaryDataByteOrderMSB = False",
      "CompressedData = False",
      "TransformMatrix = 1 0 0 0 1 0 0 0 1",
      "Offset = 0 0 0",
      `ElementSpacing = ${knee.spacing} ${knee.spacing} ${knee.spacing}`,
      `DimSize = ${knee.width} ${knee.height} ${knee.depth}`,
      "ElementType = MET_USHORT",
      `ElementDataFile = ${name}.raw`,
      "",
    ].join("\n"),
  );
}

/** Writes into the staging folder; the rename of the whole folder is what makes the demo appear at once. */
function writeFile(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

/** One TIFF per slice, numbered from 0000, as reconstruction software exports them. */
function writeStack(dir: string, prefix: string, v: Volume<Uint8Array | Uint16Array>): void {
  for (let z = 0; z < v.depth; z++) {
    const file = path.join(dir, `${prefix}_${String(z).padStart(4, "0")}.tif`);
    writeFile(file, encodeTiffSlice({ width: v.width, height: v.height, pixels: sliceOf(v, z), spacing: { xy: v.spacing, z: v.spacing, unit: v.unit } }));
  }
}
