// PLY files made in the tests from real meshes (the Stanford bunny of npm stl-models), in every PLY encoding.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

/** The Stanford bunny as binary STL (3.47 MB, 69,451 triangles), from the stl-models package. */
export const BUNNY_STL = path.join(path.dirname(createRequire(import.meta.url).resolve("stl-models/package.json")), "objects/bunny.bin.stl");

/** The triangles of a binary STL, 9 floats each, read here without Mata's reader so the two can be compared. */
export function stlTriangles(file: string): Float32Array {
  const b = readFileSync(file);
  const n = b.readUInt32LE(80);
  const out = new Float32Array(n * 9);
  for (let t = 0; t < n; t++) for (let k = 0; k < 9; k++) out[t * 9 + k] = b.readFloatLE(84 + t * 50 + 12 + k * 4);
  return out;
}

/** An indexed mesh: shared positions and polygons (3 or more corners each). */
export interface IndexedMesh {
  positions: number[];
  faces: number[][];
}

/** Shares equal corners of a triangle soup, as a PLY exporter would. */
export function indexed(tris: Float32Array): IndexedMesh {
  const ids = new Map<string, number>();
  const positions: number[] = [];
  const faces: number[][] = [];
  for (let t = 0; t < tris.length / 9; t++) {
    const f: number[] = [];
    for (let c = 0; c < 3; c++) {
      const p = tris.subarray(t * 9 + c * 3, t * 9 + c * 3 + 3);
      const key = `${p[0]},${p[1]},${p[2]}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = positions.length / 3;
        ids.set(key, id);
        positions.push(p[0]!, p[1]!, p[2]!);
      }
      f.push(id);
    }
    faces.push(f);
  }
  return { positions, faces };
}

/** A box from the origin to (w, h, d): corner i at (i & 1 ? w : 0, i & 2 ? h : 0, i & 4 ? d : 0), six outward quads. */
export function boxMesh(w: number, h: number, d: number): IndexedMesh {
  return {
    positions: [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [i & 1 ? w : 0, i & 2 ? h : 0, i & 4 ? d : 0]),
    faces: [
      [0, 2, 3, 1],
      [4, 5, 7, 6],
      [0, 1, 5, 4],
      [2, 6, 7, 3],
      [0, 4, 6, 2],
      [1, 3, 7, 5],
    ],
  };
}

/** The PLY encodings. */
export type PlyFormat = "ascii" | "binary_little_endian" | "binary_big_endian";

/**
 * Writes a PLY with the properties real exporters add and a reader must skip: normals and colours on vertices,
 * a custom double, an extra list on faces, and an element of its own (edges) between vertices and faces.
 */
export function encodePly(mesh: IndexedMesh, format: PlyFormat, opts: { comment?: string } = {}): Buffer {
  const nv = mesh.positions.length / 3;
  const header = [
    "ply",
    `format ${format} 1.0`,
    `comment ${opts.comment ?? "made by Mata's tests"}`,
    `element vertex ${nv}`,
    "property float x",
    "property float y",
    "property float z",
    "property float nx",
    "property float ny",
    "property float nz",
    "property uchar red",
    "property uchar green",
    "property uchar blue",
    "property double quality",
    "element edge 2",
    "property int vertex1",
    "property int vertex2",
    `element face ${mesh.faces.length}`,
    "property uchar flags",
    "property list uchar int vertex_indices",
    "property list uchar float texcoord",
    "end_header",
    "",
  ].join("\n");
  if (format === "ascii") {
    const lines: string[] = [];
    for (let i = 0; i < nv; i++) {
      const p = mesh.positions.slice(i * 3, i * 3 + 3).map((x) => String(Math.fround(x)));
      lines.push(`${p.join(" ")} 0 0 1 200 100 50 ${i * 0.5}`);
    }
    lines.push("0 1", "1 2");
    for (const f of mesh.faces) lines.push(`7 ${f.length} ${f.join(" ")} 2 0.25 0.75`);
    return Buffer.from(header + lines.join("\n") + "\n", "latin1");
  }
  const le = format === "binary_little_endian";
  const vertexBytes = 6 * 4 + 3 + 8;
  const faceBytes = mesh.faces.reduce((n, f) => n + 1 + 1 + 4 * f.length + 1 + 8, 0);
  const body = Buffer.alloc(nv * vertexBytes + 2 * 8 + faceBytes);
  let o = 0;
  const f32 = (x: number) => (o = le ? body.writeFloatLE(x, o) : body.writeFloatBE(x, o));
  const i32 = (x: number) => (o = le ? body.writeInt32LE(x, o) : body.writeInt32BE(x, o));
  const u8 = (x: number) => (o = body.writeUInt8(x, o));
  for (let i = 0; i < nv; i++) {
    for (let k = 0; k < 3; k++) f32(mesh.positions[i * 3 + k]!);
    (f32(0), f32(0), f32(1), u8(200), u8(100), u8(50));
    o = le ? body.writeDoubleLE(i * 0.5, o) : body.writeDoubleBE(i * 0.5, o);
  }
  (i32(0), i32(1), i32(1), i32(2));
  for (const f of mesh.faces) {
    (u8(7), u8(f.length));
    for (const v of f) i32(v);
    (u8(2), f32(0.25), f32(0.75));
  }
  return Buffer.concat([Buffer.from(header, "latin1"), body]);
}
