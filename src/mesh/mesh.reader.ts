import { closeSync, fstatSync, readSync } from "node:fs";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";
import { checkTriangles, checkVertices } from "./mesh.limits.ts";
import { errnoOf, forEachLine, MeshReadError, openMesh, type TriangleSink } from "./mesh.io.ts";
import { readPly } from "./mesh.ply.ts";

export { MeshReadError, type TriangleSink } from "./mesh.io.ts";

const CHUNK = 50 * 32768;

/** The mesh formats Mata previews, by file name. */
export function meshFormat(file: string): "stl" | "obj" | "ply" | null {
  const lower = file.toLowerCase();
  if (lower.endsWith(".stl")) return "stl";
  if (lower.endsWith(".obj")) return "obj";
  if (lower.endsWith(".ply")) return "ply";
  return null;
}

/**
 * Streams the triangles of an STL (binary or ASCII), OBJ or PLY (mesh.ply.ts) file in bounded memory.
 * OBJ keeps one position per vertex (12 bytes) since faces may refer back to any of them.
 * A binary STL's triangle count is checked against `max_triangles` from its header before anything is read;
 * text files are counted as they stream and stopped at the cap (and an OBJ at `max_vertices`).
 */
export function readTriangles(file: string, sink: TriangleSink, signal?: AbortSignal, name = file, limits: PreviewLimits = DEFAULT_LIMITS): number {
  try {
    const format = meshFormat(file);
    if (format === "stl") return isBinaryStl(file, limits) ? readBinaryStl(file, sink, signal) : readAsciiStl(file, sink, signal, limits);
    if (format === "obj") return readObj(file, sink, signal, limits);
    if (format === "ply") return readPly(file, sink, signal, limits);
    throw new MeshReadError(`${file}: not an STL, OBJ or PLY file`);
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    // A read the kernel refused (EIO) is a broken file too, named like the others.
    const err =
      e instanceof Error && (e instanceof MeshReadError || e.name === "PreviewLimitError") ? e : new MeshReadError(`${file}: cannot read (${errnoOf(e)})`);
    // Messages name the file as the person knows it (relative to the dataset), not the server's path.
    if (name !== file) err.message = err.message.split(file).join(name);
    throw err;
  }
}

function isBinaryStl(file: string, limits: PreviewLimits): boolean {
  const fd = openMesh(file);
  try {
    const size = fstatSync(fd).size;
    if (size < 84) {
      const head = Buffer.alloc(Math.min(size, 84));
      readSync(fd, head, 0, head.length, 0);
      if (head.toString("latin1").trimStart().startsWith("solid")) return false;
      throw new MeshReadError(`${file}: too short to be an STL file (${size} bytes)`);
    }
    const head = Buffer.alloc(84);
    readSync(fd, head, 0, 84, 0);
    const n = head.readUInt32LE(80);
    // Many binary STLs start with "solid" too: the exact size decides.
    if (84 + 50 * n === size) {
      checkTriangles(file, n, limits);
      return true;
    }
    if (head.toString("latin1", 0, 80).trimStart().startsWith("solid")) return false;
    throw new MeshReadError(`${file}: binary STL header says ${n} triangles (${84 + 50 * n} bytes) but the file has ${size} bytes`);
  } finally {
    closeSync(fd);
  }
}

function readBinaryStl(file: string, sink: TriangleSink, signal?: AbortSignal): number {
  const fd = openMesh(file);
  try {
    const total = (fstatSync(fd).size - 84) / 50;
    if (total === 0) throw new MeshReadError(`${file}: no triangles found (the binary STL header says 0)`);
    const buf = Buffer.alloc(CHUNK);
    const out = new Float32Array((CHUNK / 50) * 9);
    let pos = 84;
    let done = 0;
    while (done < total) {
      signal?.throwIfAborted();
      const want = Math.min(CHUNK, (total - done) * 50);
      const got = readSync(fd, buf, 0, want, pos);
      if (got < want) throw new MeshReadError(`${file}: truncated after ${done} of ${total} triangles`);
      const n = want / 50;
      for (let t = 0; t < n; t++) {
        const base = t * 50 + 12; // skip the stored normal
        for (let k = 0; k < 9; k++) {
          const v = buf.readFloatLE(base + k * 4);
          if (!Number.isFinite(v)) throw new MeshReadError(`${file}: triangle ${done + t} has a coordinate that is not a finite number`);
          out[t * 9 + k] = v;
        }
      }
      sink(out, n);
      pos += want;
      done += n;
    }
    return total;
  } finally {
    closeSync(fd);
  }
}

function readAsciiStl(file: string, sink: TriangleSink, signal: AbortSignal | undefined, limits: PreviewLimits): number {
  const out = new Float32Array(4096 * 9);
  let n = 0;
  let corner = 0;
  let total = 0;
  forEachLine(
    file,
    (line, no) => {
      const t = line.trim();
      if (!t.startsWith("vertex")) {
        if (t.startsWith("endfacet") && corner !== 0) throw new MeshReadError(`${file}: line ${no}: a facet with ${corner} vertices (expected 3)`);
        return;
      }
      const parts = t.split(/\s+/);
      for (let k = 0; k < 3; k++) {
        const v = Number(parts[k + 1]);
        if (parts.length !== 4 || !Number.isFinite(v)) throw new MeshReadError(`${file}: line ${no}: malformed vertex "${t.slice(0, 80)}"`);
        out[n * 9 + corner * 3 + k] = v;
      }
      if (++corner === 3) {
        corner = 0;
        if (++total > limits.maxTriangles) checkTriangles(file, total, limits, true);
        if (++n === 4096) {
          sink(out, n);
          n = 0;
        }
      }
    },
    signal,
  );
  if (corner !== 0) throw new MeshReadError(`${file}: ends inside a facet`);
  if (n) sink(out, n);
  if (total === 0) throw new MeshReadError(`${file}: no triangles found`);
  return total;
}

function readObj(file: string, sink: TriangleSink, signal: AbortSignal | undefined, limits: PreviewLimits): number {
  let verts = new Float32Array(3 * 65536);
  let nv = 0;
  const out = new Float32Array(4096 * 9);
  let n = 0;
  let total = 0;
  const corner = (idx: number, slot: number) => {
    for (let k = 0; k < 3; k++) out[n * 9 + slot * 3 + k] = verts[idx * 3 + k]!;
  };
  forEachLine(
    file,
    (line, no) => {
      if (line.startsWith("v ")) {
        const p = line.trim().split(/\s+/);
        const x = Number(p[1]),
          y = Number(p[2]),
          z = Number(p[3]);
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) throw new MeshReadError(`${file}: line ${no}: malformed vertex`);
        if (nv >= limits.maxVertices) checkVertices(file, nv + 1, limits);
        if (nv * 3 + 3 > verts.length) {
          const grown = new Float32Array(verts.length * 2);
          grown.set(verts);
          verts = grown;
        }
        verts[nv * 3] = x;
        verts[nv * 3 + 1] = y;
        verts[nv * 3 + 2] = z;
        nv++;
      } else if (line.startsWith("f ")) {
        const refs = line
          .trim()
          .split(/\s+/)
          .slice(1)
          .map((r) => {
            const i = parseInt(r, 10);
            const idx = i < 0 ? nv + i : i - 1;
            if (!Number.isInteger(i) || i === 0 || idx < 0 || idx >= nv)
              throw new MeshReadError(`${file}: line ${no}: face refers to vertex ${r}, but only ${nv} are defined before it`);
            return idx;
          });
        if (refs.length < 3) throw new MeshReadError(`${file}: line ${no}: a face needs at least 3 vertices`);
        // Polygons become a fan of triangles.
        for (let k = 1; k + 1 < refs.length; k++) {
          corner(refs[0]!, 0);
          corner(refs[k]!, 1);
          corner(refs[k + 1]!, 2);
          if (++total > limits.maxTriangles) checkTriangles(file, total, limits, true);
          if (++n === 4096) {
            sink(out, n);
            n = 0;
          }
        }
      }
    },
    signal,
  );
  if (n) sink(out, n);
  if (total === 0) throw new MeshReadError(`${file}: no faces found`);
  return total;
}
