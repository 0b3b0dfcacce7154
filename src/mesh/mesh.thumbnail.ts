// The list thumbnail of a mesh, drawn on the server by a small software rasterizer (no GPU, no browser): an
// orthographic view from the viewer's home direction, a z-buffer, and Lambert shading from face normals.
import sharp from "sharp";
import { writeFileAtomic } from "../platform/fs.ts";
import { mkdirSync } from "node:fs";
import path from "node:path";

/** The thumbnail's size: 4:3 like the list's slot (48 x 36), large enough for a sharp picture on any screen. */
export const MESH_THUMB_WIDTH = 256;
export const MESH_THUMB_HEIGHT = 192;
/** The viewer's background (static/mesh-viewer.js), so the thumbnail looks like the viewer's first picture. */
export const MESH_THUMB_BACKGROUND: readonly [number, number, number] = [0x20, 0x24, 0x2b];
/** The viewer's home direction from the centre towards the camera (static/mesh-viewer.js). */
const VIEW: readonly [number, number, number] = [0.6, 0.45, 0.9];
const SURFACE = [0.82 * 255, 0.76 * 255, 0.7 * 255];
/** Drawn at this multiple of the size and scaled down by libvips: cheap anti-aliasing. */
const SUPERSAMPLE = 2;
/**
 * The most pixel tests one picture may take (about half a second): a hostile or odd mesh of many triangles each
 * covering much of the picture would otherwise cost triangles x pixels. Over it, every k-th triangle is drawn.
 */
export const PIXEL_BUDGET = 60_000_000;

type Vec3 = [number, number, number];
const norm = (v: Vec3): Vec3 => {
  const l = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
};
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/**
 * Rasterizes an indexed triangle mesh into an RGBA picture of `width` x `height` (opaque background), fitted with a
 * margin; its cost is linear in triangles and pixels, so a preview-sized mesh (≤ 500,000 triangles) takes a fraction of a second.
 */
export function renderMesh(positions: ArrayLike<number>, indices: ArrayLike<number>, width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  const [br, bg, bb] = MESH_THUMB_BACKGROUND;
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = br;
    rgba[i + 1] = bg;
    rgba[i + 2] = bb;
    rgba[i + 3] = 255;
  }
  const nv = positions.length / 3;
  if (nv === 0 || indices.length < 3) return rgba;
  // Camera axes: z towards the viewer, x to the right, y up (three.js's lookAt with up = +Y).
  const z = norm([...VIEW]);
  const x = norm(cross([0, 1, 0], z));
  const y = cross(z, x);
  // Screen coordinates of every vertex (x, y in world units; depth larger = nearer).
  const sx = new Float32Array(nv);
  const sy = new Float32Array(nv);
  const sz = new Float32Array(nv);
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity;
  for (let v = 0; v < nv; v++) {
    const px = positions[v * 3]!,
      py = positions[v * 3 + 1]!,
      pz = positions[v * 3 + 2]!;
    const a = px * x[0] + py * x[1] + pz * x[2];
    const b = px * y[0] + py * y[1] + pz * y[2];
    sx[v] = a;
    sy[v] = b;
    sz[v] = px * z[0] + py * z[1] + pz * z[2];
    if (a < minX) minX = a;
    if (a > maxX) maxX = a;
    if (b < minY) minY = b;
    if (b > maxY) maxY = b;
  }
  const margin = 0.08;
  const scale = Math.min((width * (1 - 2 * margin)) / (maxX - minX || 1), (height * (1 - 2 * margin)) / (maxY - minY || 1));
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  for (let v = 0; v < nv; v++) {
    sx[v] = width / 2 + (sx[v]! - cx) * scale;
    sy[v] = height / 2 - (sy[v]! - cy) * scale;
  }
  // A key light from the upper right of the camera, as in the viewer.
  const light = norm([x[0] + y[0] + 2 * z[0], x[1] + y[1] + 2 * z[1], x[2] + y[2] + 2 * z[2]]);
  const depth = new Float32Array(width * height).fill(-Infinity);
  // The work is the triangles' bounding boxes on screen: summed first, so the drawing below stays within the budget.
  let work = 0;
  for (let t = 0; t + 2 < indices.length; t += 3) {
    const a = indices[t]!,
      b = indices[t + 1]!,
      c = indices[t + 2]!;
    const w = Math.min(width, Math.max(sx[a]!, sx[b]!, sx[c]!)) - Math.max(0, Math.min(sx[a]!, sx[b]!, sx[c]!));
    const h = Math.min(height, Math.max(sy[a]!, sy[b]!, sy[c]!)) - Math.max(0, Math.min(sy[a]!, sy[b]!, sy[c]!));
    if (w > 0 && h > 0) work += (w + 1) * (h + 1);
  }
  const stride = 3 * Math.max(1, Math.ceil(work / PIXEL_BUDGET));
  for (let t = 0; t + 2 < indices.length; t += stride) {
    const a = indices[t]!,
      b = indices[t + 1]!,
      c = indices[t + 2]!;
    const ax = sx[a]!,
      ay = sy[a]!,
      bx = sx[b]!,
      by = sy[b]!,
      cx2 = sx[c]!,
      cy2 = sy[c]!;
    const area = (bx - ax) * (cy2 - ay) - (by - ay) * (cx2 - ax);
    if (area === 0) continue;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx, cx2)));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(ax, bx, cx2)));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by, cy2)));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(ay, by, cy2)));
    if (x0 > x1 || y0 > y1) continue;
    // Lambert from the face normal, lit on both sides (open surfaces show their inside).
    const e1: Vec3 = [positions[b * 3]! - positions[a * 3]!, positions[b * 3 + 1]! - positions[a * 3 + 1]!, positions[b * 3 + 2]! - positions[a * 3 + 2]!];
    const e2: Vec3 = [positions[c * 3]! - positions[a * 3]!, positions[c * 3 + 1]! - positions[a * 3 + 1]!, positions[c * 3 + 2]! - positions[a * 3 + 2]!];
    const n = norm(cross(e1, e2));
    const shade = 0.22 + 0.78 * Math.abs(n[0] * light[0] + n[1] * light[1] + n[2] * light[2]);
    const r = SURFACE[0]! * shade,
      g = SURFACE[1]! * shade,
      bl = SURFACE[2]! * shade;
    const za = sz[a]!,
      zb = sz[b]!,
      zc = sz[c]!;
    const inv = 1 / area;
    for (let py = y0; py <= y1; py++) {
      const fy = py + 0.5;
      for (let px = x0; px <= x1; px++) {
        const fx = px + 0.5;
        // Barycentric weights; all of one sign (the triangle's winding) inside.
        const w0 = ((bx - fx) * (cy2 - fy) - (by - fy) * (cx2 - fx)) * inv;
        const w1 = ((cx2 - fx) * (ay - fy) - (cy2 - fy) * (ax - fx)) * inv;
        const w2 = 1 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const d = w0 * za + w1 * zb + w2 * zc;
        const i = py * width + px;
        if (d <= depth[i]!) continue;
        depth[i] = d;
        rgba[i * 4] = r;
        rgba[i * 4 + 1] = g;
        rgba[i * 4 + 2] = bl;
      }
    }
  }
  return rgba;
}

/** Draws the mesh's thumbnail and writes it as a PNG, atomically (it is published with the preview's folder). */
export async function writeMeshThumbnail(positions: ArrayLike<number>, indices: ArrayLike<number>, file: string): Promise<void> {
  const w = MESH_THUMB_WIDTH * SUPERSAMPLE;
  const h = MESH_THUMB_HEIGHT * SUPERSAMPLE;
  const png = await sharp(renderMesh(positions, indices, w, h), { raw: { width: w, height: h, channels: 4 } })
    .resize(MESH_THUMB_WIDTH, MESH_THUMB_HEIGHT, { kernel: "lanczos3" })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toBuffer();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(path.dirname(file), path.basename(file), png);
}
