// The demo root: real files that independent readers (sharp, Debian's vipsheader) accept, with the right
// sizes, bit depths and spacing; a root with anything in it is never touched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { DEMO_METADATA, seedDemoRoot } from "../../src/demo/demo.ts";
import { lungBiopsyPhantom } from "../../src/demo/phantoms.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { tempDir } from "../support/env.ts";

const tmp = tempDir("mata-demo-");
const root = path.join(tmp.dir, "mata-data", "root");
const ds = (name: string, ...rest: string[]) => path.join(root, name, ...rest);

beforeAll(async () => {
  expect(await seedDemoRoot(root)).toBe(true);
});
afterAll(() => tmp.cleanup());

function vipsheader(field: string, file: string): string {
  const r = Bun.spawnSync(["vipsheader", "-f", field, file], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`vipsheader ${file}: ${r.stderr}`);
  return r.stdout.toString();
}

describe("seeding", () => {
  test("makes exactly the datasets DEMO_METADATA describes, and nothing beside the root", () => {
    expect(readdirSync(root).sort()).toEqual(Object.keys(DEMO_METADATA).sort());
    expect(readdirSync(path.dirname(root))).toEqual(["root"]);
  });

  test("a root with anything in it is left alone; an empty existing root is filled; a killed seeding's leftovers are removed", async () => {
    const busy = path.join(tmp.dir, "busy");
    mkdirSync(busy);
    writeFileSync(path.join(busy, "notes.txt"), "mine");
    expect(await seedDemoRoot(busy)).toBe(false);
    expect(readdirSync(busy)).toEqual(["notes.txt"]);
    expect(readFileSync(path.join(busy, "notes.txt"), "utf8")).toBe("mine");

    const parent = path.join(tmp.dir, "fresh");
    const empty = path.join(parent, "root");
    mkdirSync(empty, { recursive: true });
    mkdirSync(path.join(parent, ".root.seeding-99999", "half-written"), { recursive: true });
    expect(await seedDemoRoot(empty)).toBe(true);
    expect(readdirSync(empty).sort()).toEqual(Object.keys(DEMO_METADATA).sort());
    expect(readdirSync(parent)).toEqual(["root"]);
  });
});

describe("files", () => {
  test("the CT is 64 slices of 16-bit 256x256 TIFF, pixel for pixel the phantom, with ImageJ spacing", async () => {
    const files = readdirSync(ds("lung-biopsy-CT-001"))
      .filter((f) => f.endsWith(".tif"))
      .sort();
    expect(files).toHaveLength(64);
    expect(files[0]).toBe("rec_0000.tif");
    expect(files[63]).toBe("rec_0063.tif");
    const { ct } = lungBiopsyPhantom();
    for (const z of [0, 31, 63]) {
      const file = ds("lung-biopsy-CT-001", files[z]!);
      const meta = await sharp(file).metadata();
      expect(meta).toMatchObject({ format: "tiff", width: 256, height: 256, channels: 1, depth: "ushort", bitsPerSample: 16 });
      const { data, info } = await sharp(file).toColourspace("grey16").raw({ depth: "ushort" }).toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(1);
      const got = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(ct.data.buffer, z * 256 * 256 * 2, 256 * 256 * 2))).toBe(true);
    }
    const mid = ds("lung-biopsy-CT-001", "rec_0032.tif");
    expect(vipsheader("format", mid)).toContain("USHORT");
    const description = vipsheader("image-description", mid);
    expect(description).toStartWith("ImageJ=");
    expect(description).toContain("spacing=12.5");
    expect(description).toContain("unit=micron");
    // 12.5 µm per pixel = 0.08 pixels per µm, in X and Y.
    expect(Number(vipsheader("xres", mid))).toBeCloseTo(0.08, 6);
    // Contrast a preview can show: nodules far brighter than the tube's air.
    const stats = await sharp(mid).stats();
    expect(stats.channels[0]!.max - stats.channels[0]!.min).toBeGreaterThan(20000);
  });

  test("the segmentation is 64 8-bit masks on the same grid, labels 0-2, nodules where the CT is dense", async () => {
    const files = readdirSync(ds("lung-biopsy-CT-001-segmentation"))
      .filter((f) => f.endsWith(".tif"))
      .sort();
    expect(files).toHaveLength(64);
    const mask = await sharp(ds("lung-biopsy-CT-001-segmentation", "mask_0025.tif")).toColourspace("b-w").raw().toBuffer({ resolveWithObject: true });
    expect(mask.info).toMatchObject({ width: 256, height: 256, channels: 1 });
    expect((await sharp(ds("lung-biopsy-CT-001-segmentation", "mask_0025.tif")).metadata()).depth).toBe("uchar");
    const ctRaw = await sharp(ds("lung-biopsy-CT-001", "rec_0025.tif")).toColourspace("grey16").raw({ depth: "ushort" }).toBuffer();
    const ct = new Uint16Array(ctRaw.buffer, ctRaw.byteOffset, ctRaw.byteLength / 2);
    const sum = [0, 0, 0];
    const count = [0, 0, 0];
    let maxLabel = 0;
    for (let i = 0; i < mask.data.length; i++) {
      const l = mask.data[i]!;
      maxLabel = Math.max(maxLabel, l);
      if (l > 2) continue;
      sum[l]! += ct[i]!;
      count[l]!++;
    }
    expect(maxLabel).toBe(2);
    expect(count.every((n) => n > 100)).toBe(true);
    const mean = sum.map((s, i) => s / count[i]!);
    expect(mean[2]!).toBeGreaterThan(mean[1]! + 8000);
    expect(mean[1]!).toBeGreaterThan(mean[0]! + 8000);
  });

  test("the histology image is a 1024x768 RGB PNG", async () => {
    const meta = await sharp(ds("lung-biopsy-histology-001", "HE-section-01.png")).metadata();
    expect(meta).toMatchObject({ format: "png", width: 1024, height: 768, channels: 3, depth: "uchar" });
    const { channels } = await sharp(ds("lung-biopsy-histology-001", "HE-section-01.png")).stats();
    // Eosin pink: more red than green on average.
    expect(channels[0]!.mean).toBeGreaterThan(channels[1]!.mean + 20);
  });

  test("the vessel is a binary STL of a closed surface (every edge shared by exactly two triangles)", () => {
    const bytes = readFileSync(ds("vessel-surface-001", "vessel.stl"));
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = v.getUint32(80, true);
    expect(n).toBeGreaterThan(1000);
    expect(bytes.length).toBe(84 + 50 * n);
    const edges = new Map<string, number>();
    const key = (o: number) => `${v.getFloat32(o, true)},${v.getFloat32(o + 4, true)},${v.getFloat32(o + 8, true)}`;
    for (let t = 0; t < n; t++) {
      const at = 84 + t * 50;
      expect(Math.hypot(v.getFloat32(at, true), v.getFloat32(at + 4, true), v.getFloat32(at + 8, true))).toBeCloseTo(1, 4);
      const p = [key(at + 12), key(at + 24), key(at + 36)];
      for (let i = 0; i < 3; i++) {
        const e = [p[i]!, p[(i + 1) % 3]!].sort().join("|");
        edges.set(e, (edges.get(e) ?? 0) + 1);
      }
    }
    expect([...edges.values()].every((c) => c === 2)).toBe(true);
  });

  test("the knee is a MetaImage header whose raw file holds exactly DimSize voxels of MET_USHORT", () => {
    const dir = ds("sheep-knee-CT-002");
    expect(readdirSync(dir).sort()).toEqual(["sheep-knee-CT-002.mhd", "sheep-knee-CT-002.raw"]);
    const header = Object.fromEntries(
      readFileSync(path.join(dir, "sheep-knee-CT-002.mhd"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" = ") as [string, string]),
    );
    expect(header).toMatchObject({ NDims: "3", ElementType: "MET_USHORT", BinaryDataByteOrderMSB: "False", ElementDataFile: "sheep-knee-CT-002.raw" });
    const dims = header.DimSize!.split(" ").map(Number);
    expect(dims).toEqual([128, 128, 96]);
    expect(statSync(path.join(dir, "sheep-knee-CT-002.raw")).size).toBe(128 * 128 * 96 * 2);
    expect(header.ElementSpacing!.split(" ").map(Number)).toEqual([0.08, 0.08, 0.08]);
  });
});

describe("DEMO_METADATA", () => {
  test("parents name demo datasets that come earlier; tags are well-formed trees; texts are present", () => {
    const names = Object.keys(DEMO_METADATA);
    const wellFormed = (t: TagNode): boolean => typeof t.key === "string" && t.key !== "" && typeof t.value === "string" && t.children.every(wellFormed);
    names.forEach((name, i) => {
      const m = DEMO_METADATA[name]!;
      expect(m.title.length).toBeGreaterThan(5);
      expect(m.description.length).toBeGreaterThan(20);
      expect(m.tags.length).toBeGreaterThan(0);
      expect(m.tags.every(wellFormed)).toBe(true);
      for (const p of m.parents) (expect(names.indexOf(p)).toBeGreaterThanOrEqual(0), expect(names.indexOf(p)).toBeLessThan(i));
    });
    expect(DEMO_METADATA["lung-biopsy-CT-001-segmentation"]!.parents).toEqual(["lung-biopsy-CT-001"]);
  });
});
