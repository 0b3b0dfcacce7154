// Synthetic micro-CT volumes with the structure of real scans (a sample in a holder, dense inclusions, air, noise),
// so previews, windowing and segmentations have something real to show.
import { noise, seededRandom } from "./random.ts";

/** A volume in x-fastest order with its voxel size. */
export interface Volume<T extends Uint8Array | Uint16Array> {
  width: number;
  height: number;
  depth: number;
  data: T;
  spacing: number;
  unit: string;
}

interface Ellipsoid {
  cx: number;
  cy: number;
  cz: number;
  rx: number;
  ry: number;
  rz: number;
}

const inside = (e: Ellipsoid, x: number, y: number, z: number) => ((x - e.cx) / e.rx) ** 2 + ((y - e.cy) / e.ry) ** 2 + ((z - e.cz) / e.rz) ** 2 <= 1;

/**
 * A lung biopsy core in a plastic tube: tissue with air spaces (alveoli), three dense nodules, noise;
 * returns the 16-bit scan and its label mask (0 air/holder, 1 tissue, 2 nodule).
 */
export function lungBiopsyPhantom(size = 256, slices = 64): { ct: Volume<Uint16Array>; labels: Volume<Uint8Array> } {
  const rand = seededRandom(1);
  const n = size * size * slices;
  const labels = new Uint8Array(n);
  const c = size / 2;
  const core: Ellipsoid = { cx: c, cy: c, cz: slices / 2, rx: size * 0.36, ry: size * 0.3, rz: slices * 0.62 };
  const nodules: Ellipsoid[] = [
    { cx: c - size * 0.12, cy: c - size * 0.05, cz: slices * 0.4, rx: size * 0.07, ry: size * 0.06, rz: slices * 0.18 },
    { cx: c + size * 0.15, cy: c + size * 0.08, cz: slices * 0.6, rx: size * 0.05, ry: size * 0.05, rz: slices * 0.12 },
    { cx: c + size * 0.02, cy: c - size * 0.16, cz: slices * 0.25, rx: size * 0.035, ry: size * 0.04, rz: slices * 0.1 },
  ];
  const alveoli: Ellipsoid[] = [];
  for (let i = 0; i < 140; i++) {
    const r = size * (0.012 + rand() * 0.03);
    alveoli.push({
      cx: c + (rand() - 0.5) * size * 0.66,
      cy: c + (rand() - 0.5) * size * 0.56,
      cz: rand() * slices,
      rx: r,
      ry: r * (0.7 + rand() * 0.6),
      rz: r * 0.5,
    });
  }
  // Labels first, by painting each shape over its bounding box: tissue, then air spaces in it, then nodules.
  const paint = (e: Ellipsoid, label: number, onlyOver?: number) => {
    const z0 = Math.max(0, Math.floor(e.cz - e.rz));
    const z1 = Math.min(slices - 1, Math.ceil(e.cz + e.rz));
    const y0 = Math.max(0, Math.floor(e.cy - e.ry));
    const y1 = Math.min(size - 1, Math.ceil(e.cy + e.ry));
    const x0 = Math.max(0, Math.floor(e.cx - e.rx));
    const x1 = Math.min(size - 1, Math.ceil(e.cx + e.rx));
    for (let z = z0; z <= z1; z++)
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const i = (z * size + y) * size + x;
          if ((onlyOver === undefined || labels[i] === onlyOver) && inside(e, x, y, z)) labels[i] = label;
        }
  };
  paint(core, 1);
  for (const a of alveoli) paint(a, 0, 1);
  for (const a of nodules) paint(a, 2);
  const tubeOuter = size * 0.46;
  const tubeInner = size * 0.42;
  const ring = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) ring[y * size + x] = Math.hypot(x - c, y - c) <= tubeOuter && Math.hypot(x - c, y - c) > tubeInner ? 1 : 0;
  const grain = noiseTable(rand, 1800);
  const level = [3000, 21000, 36000];
  const ct = new Uint16Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const base = labels[i] === 0 && ring[i % (size * size)] === 1 ? 14000 : level[labels[i]!]!;
    k = (k * 1103515245 + 12345) >>> 0;
    ct[i] = Math.max(0, Math.min(65535, base + grain[k >>> 16]!));
  }
  return {
    ct: { width: size, height: size, depth: slices, data: ct, spacing: 12.5, unit: "micron" },
    labels: { width: size, height: size, depth: slices, data: labels, spacing: 12.5, unit: "micron" },
  };
}

/** 65,536 precomputed noise values, indexed by a cheap generator: millions of voxels at table-lookup cost. */
function noiseTable(rand: () => number, sigma: number): Int32Array {
  const table = new Int32Array(65536);
  for (let i = 0; i < table.length; i++) table[i] = Math.round(noise(rand, sigma));
  return table;
}

/** A sheep knee joint: femur and tibia as cortical shells around trabecular bone, with the joint gap between. */
export function kneePhantom(size = 128, slices = 96): Volume<Uint16Array> {
  const rand = seededRandom(2);
  const data = new Uint16Array(size * size * slices);
  const c = size / 2;
  const gap = slices / 2;
  const sinAt = Float64Array.from({ length: Math.max(size, slices) }, (_, i) => Math.sin(i * 0.9));
  const grain = noiseTable(rand, 1500);
  let k = 0;
  for (let z = 0; z < slices; z++) {
    const femur = z < gap - 2;
    const tibia = z > gap + 2;
    // The femur widens into its condyles towards the joint; the tibia plateau likewise.
    const t = femur ? 1 - (gap - z) / gap : tibia ? 1 - (z - gap) / gap : 0;
    const outer = size * (0.18 + 0.14 * t * t);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x - c;
        const dy = (y - c) * (femur ? 1.25 : 1);
        const r = Math.hypot(dx, dy);
        let value = 9000; // soft tissue
        if (Math.hypot(x - c, y - c) > size * 0.47)
          value = 1500; // air around the limb
        else if ((femur || tibia) && r <= outer) {
          const cortex = r > outer - size * 0.03;
          const trabecular = sinAt[x]! * sinAt[y]! * sinAt[z]! > 0.1;
          value = cortex ? 52000 : trabecular ? 30000 : 16000;
        }
        k = (k * 1103515245 + 12345) >>> 0;
        data[(z * size + y) * size + x] = Math.max(0, Math.min(65535, value + grain[k >>> 16]!));
      }
    }
  }
  return { width: size, height: size, depth: slices, data, spacing: 0.08, unit: "mm" };
}

/** One z slice of a volume as its own array (the TIFF writer takes one slice at a time). */
export function sliceOf<T extends Uint8Array | Uint16Array>(v: Volume<T>, z: number): T {
  const n = v.width * v.height;
  return v.data.subarray(z * n, (z + 1) * n) as T;
}
