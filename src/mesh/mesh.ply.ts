// PLY (Stanford polygon format) in ASCII, binary little- and big-endian, streamed like STL and OBJ: only vertex
// positions are kept (12 bytes each, since faces refer back to them); faces become fans of triangles as they are read.
import { closeSync, fstatSync, readSync } from "node:fs";
import type { PreviewLimits } from "../config.ts";
import { checkDeclared, checkTriangles } from "./mesh.limits.ts";
import { forEachLine, MeshReadError, openMesh, type TriangleSink } from "./mesh.io.ts";

/** A header longer than this is not a PLY header (real ones are a few hundred bytes). */
const HEADER_MAX = 64 * 1024;

type Scalar = "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "float32" | "float64";
const TYPES: Record<string, Scalar> = {
  char: "int8",
  int8: "int8",
  uchar: "uint8",
  uint8: "uint8",
  short: "int16",
  int16: "int16",
  ushort: "uint16",
  uint16: "uint16",
  int: "int32",
  int32: "int32",
  uint: "uint32",
  uint32: "uint32",
  float: "float32",
  float32: "float32",
  double: "float64",
  float64: "float64",
};
const SIZE: Record<Scalar, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 };

interface Property {
  name: string;
  type: Scalar;
  /** The type of the item count, for a list property. */
  count?: Scalar;
}
interface Element {
  name: string;
  count: number;
  props: Property[];
}

/** What a PLY header says: the encoding, the elements in file order, and where the body starts. */
export interface PlyHeader {
  format: "ascii" | "binary_little_endian" | "binary_big_endian";
  elements: Element[];
  bodyStart: number;
  /** Lines of the header, so messages about an ASCII body give the line number in the file. */
  headerLines: number;
}

/**
 * Reads and checks a PLY header: the declared vertex and face counts against the caps (naming the setting), then
 * against the bytes the file has, so neither a huge claim nor a truncated file gets anything allocated for it.
 */
export function readPlyHeader(file: string, limits: PreviewLimits): PlyHeader {
  const fd = openMesh(file);
  let size: number;
  let text: string;
  try {
    size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, HEADER_MAX));
    const got = readSync(fd, head, 0, head.length, 0);
    text = head.toString("latin1", 0, got);
  } finally {
    closeSync(fd);
  }
  if (!/^ply\r?\n/.test(text)) throw new MeshReadError(`${file}: not a PLY file (it does not start with "ply")`);
  const end = /(^|\n)end_header[ \t]*\r?\n/.exec(text);
  if (!end)
    throw new MeshReadError(
      size <= HEADER_MAX ? `${file}: the PLY header ends before end_header (truncated)` : `${file}: no end_header in the first 64 KiB; not a PLY header`,
    );
  const bodyStart = end.index + end[0].length;
  const lines = text.slice(0, end.index).split(/\r?\n/);
  let format: PlyHeader["format"] | null = null;
  const elements: Element[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const no = i + 1;
    const w = line.split(/\s+/);
    if (i === 0 || line === "" || w[0] === "comment" || w[0] === "obj_info") return;
    if (w[0] === "format") {
      if (w[1] !== "ascii" && w[1] !== "binary_little_endian" && w[1] !== "binary_big_endian")
        throw new MeshReadError(`${file}: header line ${no}: unknown PLY format "${line.slice(0, 80)}"`);
      format = w[1];
    } else if (w[0] === "element") {
      if (w.length !== 3 || !/^\d{1,20}$/.test(w[2]!)) throw new MeshReadError(`${file}: header line ${no}: malformed element "${line.slice(0, 80)}"`);
      elements.push({ name: w[1]!, count: Number(w[2]), props: [] });
    } else if (w[0] === "property") {
      const el = elements.at(-1);
      if (!el) throw new MeshReadError(`${file}: header line ${no}: a property before any element`);
      const list = w[1] === "list";
      const [countType, type, name] = list ? [TYPES[w[2]!], TYPES[w[3]!], w[4]] : [undefined, TYPES[w[1]!], w[2]];
      if (!type || !name || (list && !countType) || w.length !== (list ? 5 : 3))
        throw new MeshReadError(`${file}: header line ${no}: malformed property "${line.slice(0, 80)}"`);
      el.props.push({ name, type, ...(countType ? { count: countType } : {}) });
    } else throw new MeshReadError(`${file}: header line ${no}: unknown keyword "${w[0]!.slice(0, 40)}"`);
  });
  if (!format) throw new MeshReadError(`${file}: the PLY header has no format line`);
  const vertex = elements.find((e) => e.name === "vertex");
  const face = elements.find((e) => e.name === "face");
  if (!vertex) throw new MeshReadError(`${file}: the PLY header declares no vertex element`);
  if (!face) throw new MeshReadError(`${file}: the PLY header declares no face element (a point cloud has no surface to show)`);
  checkDeclared(file, "vertices", vertex.count, limits);
  checkDeclared(file, "faces", face.count, limits);
  for (const axis of ["x", "y", "z"])
    if (!vertex.props.some((p) => p.name === axis && !p.count)) throw new MeshReadError(`${file}: the vertex element has no "${axis}" property`);
  if (!indexProperty(face)) throw new MeshReadError(`${file}: the face element has no vertex_indices list`);
  if (elements.indexOf(face) < elements.indexOf(vertex)) throw new MeshReadError(`${file}: faces come before vertices; this is not supported`);
  // Every value takes at least its size in binary, and a digit and a separator in ASCII; a face at least 3 indices.
  const binary = format !== "ascii";
  const least = (e: Element) =>
    e.props.reduce((n, p) => n + (binary ? SIZE[p.count ?? p.type] : 2) + (e === face && p === indexProperty(face) ? 3 * (binary ? SIZE[p.type] : 2) : 0), 0);
  const need = elements.reduce((n, e) => n + e.count * least(e), 0);
  if (need > size - bodyStart)
    throw new MeshReadError(
      `${file}: the header declares ${vertex.count.toLocaleString("en-US")} vertices and ${face.count.toLocaleString("en-US")} faces (at least ${need.toLocaleString("en-US")} bytes), but only ${(size - bodyStart).toLocaleString("en-US")} bytes follow it; the file is truncated or its header is wrong`,
    );
  return { format, elements, bodyStart, headerLines: lines.length + 1 };
}

const indexProperty = (face: Element) => face.props.find((p) => p.count && (p.name === "vertex_indices" || p.name === "vertex_index"));

/** Collects triangles into fixed batches for the sink, counting them against `max_triangles` as they come. */
class TriangleBatcher {
  private readonly out = new Float32Array(4096 * 9);
  private n = 0;
  total = 0;
  constructor(
    private readonly file: string,
    private readonly verts: Float32Array,
    private readonly sink: TriangleSink,
    private readonly limits: PreviewLimits,
  ) {}
  add(a: number, b: number, c: number): void {
    if (++this.total > this.limits.maxTriangles) checkTriangles(this.file, this.total, this.limits, true);
    const o = this.n * 9;
    for (let k = 0; k < 3; k++) {
      this.out[o + k] = this.verts[a * 3 + k]!;
      this.out[o + 3 + k] = this.verts[b * 3 + k]!;
      this.out[o + 6 + k] = this.verts[c * 3 + k]!;
    }
    if (++this.n === 4096) this.flush();
  }
  flush(): void {
    if (this.n) this.sink(this.out, this.n);
    this.n = 0;
  }
}

/** Streams a PLY file's faces as triangles (polygons as fans); other elements and properties (normals, colours, custom) are skipped. */
export function readPly(file: string, sink: TriangleSink, signal: AbortSignal | undefined, limits: PreviewLimits): number {
  const header = readPlyHeader(file, limits);
  const vertex = header.elements.find((e) => e.name === "vertex")!;
  const face = header.elements.find((e) => e.name === "face")!;
  // Checked against max_vertices and the file's size above, so this many positions are really there to be read.
  const verts = new Float32Array(vertex.count * 3);
  const tris = new TriangleBatcher(file, verts, sink, limits);
  const axes = ["x", "y", "z"].map((a) => vertex.props.findIndex((p) => p.name === a && !p.count));
  const indices = face.props.indexOf(indexProperty(face)!);
  let first = 0;
  let prev = 0;
  /** One item of a face's index list, by its position in the list (k) within face f. */
  const corner = (v: number, k: number, f: number) => {
    if (!Number.isInteger(v) || v < 0 || v >= vertex.count)
      throw new MeshReadError(`${file}: face ${f} refers to vertex ${v}, but the file has ${vertex.count} vertices (0 to ${vertex.count - 1})`);
    if (k === 0) first = v;
    else if (k >= 2) tris.add(first, prev, v);
    prev = v;
  };
  const position = (v: number, axis: number, i: number) => {
    if (!Number.isFinite(v)) throw new MeshReadError(`${file}: vertex ${i} has a coordinate that is not a finite number`);
    verts[i * 3 + axis] = v;
  };
  const listLength = (n: number, e: Element, i: number, isIndices: boolean) => {
    if (!Number.isInteger(n) || n < 0) throw new MeshReadError(`${file}: ${e.name} ${i} has a list length of ${n}`);
    if (isIndices && n < 3) throw new MeshReadError(`${file}: face ${i} has ${n} vertices (a face needs at least 3)`);
    return n;
  };
  const reader = { vertex, face, axes, indices, corner, position, listLength };
  if (header.format === "ascii") readAsciiBody(file, header, reader, signal);
  else readBinaryBody(file, header, reader, signal);
  tris.flush();
  if (tris.total === 0) throw new MeshReadError(`${file}: no faces found`);
  return tris.total;
}

interface BodyReader {
  vertex: Element;
  face: Element;
  /** Indices of the x, y and z properties of a vertex. */
  axes: number[];
  /** Index of the face's vertex index list. */
  indices: number;
  corner: (v: number, k: number, f: number) => void;
  position: (v: number, axis: number, i: number) => void;
  listLength: (n: number, e: Element, i: number, isIndices: boolean) => number;
}

function readAsciiBody(file: string, h: PlyHeader, r: BodyReader, signal: AbortSignal | undefined): void {
  let e = 0;
  let row = 0;
  const skipEmpty = () => {
    while (e < h.elements.length && row >= h.elements[e]!.count) {
      e++;
      row = 0;
    }
  };
  skipEmpty();
  forEachLine(
    file,
    (line, no) => {
      if (e >= h.elements.length) return;
      const w = line.trim().split(/\s+/);
      if (w.length === 1 && w[0] === "") return;
      const el = h.elements[e]!;
      let t = 0;
      const next = (): number => {
        const s = w[t++];
        const v = s === undefined ? NaN : Number(s);
        if (s === undefined || Number.isNaN(v))
          throw new MeshReadError(`${file}: line ${h.headerLines + no}: ${el.name} ${row} has too few or malformed values`);
        return v;
      };
      el.props.forEach((p, pi) => {
        if (p.count) {
          const isIndices = el === r.face && pi === r.indices;
          const n = r.listLength(next(), el, row, isIndices);
          for (let k = 0; k < n; k++) {
            const v = next();
            if (isIndices) r.corner(v, k, row);
          }
        } else {
          const v = next();
          if (el === r.vertex) {
            const axis = r.axes.indexOf(pi);
            if (axis >= 0) r.position(v, axis, row);
          }
        }
      });
      row++;
      if ((row & 0xffff) === 0) signal?.throwIfAborted();
      skipEmpty();
    },
    signal,
    h.bodyStart,
  );
  if (e < h.elements.length) throw new MeshReadError(`${file}: ends after ${row} of ${h.elements[e]!.count} ${h.elements[e]!.name} rows (truncated)`);
}

/** Buffered reads of typed values from a binary body, a chunk at a time. */
class BinaryCursor {
  private readonly buf = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  constructor(
    private readonly fd: number,
    private pos: number,
    private readonly little: boolean,
    private readonly truncated: () => MeshReadError,
  ) {}
  private need(n: number): void {
    if (this.end - this.start >= n) return;
    this.buf.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    while (this.end < n) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.pos);
      if (got === 0) throw this.truncated();
      this.end += got;
      this.pos += got;
    }
  }
  read(t: Scalar): number {
    this.need(SIZE[t]);
    const b = this.buf;
    const o = this.start;
    this.start += SIZE[t];
    const le = this.little;
    switch (t) {
      case "int8":
        return b.readInt8(o);
      case "uint8":
        return b[o]!;
      case "int16":
        return le ? b.readInt16LE(o) : b.readInt16BE(o);
      case "uint16":
        return le ? b.readUInt16LE(o) : b.readUInt16BE(o);
      case "int32":
        return le ? b.readInt32LE(o) : b.readInt32BE(o);
      case "uint32":
        return le ? b.readUInt32LE(o) : b.readUInt32BE(o);
      case "float32":
        return le ? b.readFloatLE(o) : b.readFloatBE(o);
      case "float64":
        return le ? b.readDoubleLE(o) : b.readDoubleBE(o);
    }
  }
  /** Skips `n` bytes (a list nobody needs), reading past them only when they lie in the buffer. */
  skip(n: number): void {
    const inBuf = Math.min(n, this.end - this.start);
    this.start += inBuf;
    this.pos += n - inBuf;
  }
}

function readBinaryBody(file: string, h: PlyHeader, r: BodyReader, signal: AbortSignal | undefined): void {
  const fd = openMesh(file);
  let el = h.elements[0]!;
  let i = 0;
  try {
    const cur = new BinaryCursor(
      fd,
      h.bodyStart,
      h.format === "binary_little_endian",
      () => new MeshReadError(`${file}: truncated in ${el.name} ${i} of ${el.count}`),
    );
    for (el of h.elements) {
      for (i = 0; i < el.count; i++) {
        if ((i & 0xffff) === 0) signal?.throwIfAborted();
        for (let pi = 0; pi < el.props.length; pi++) {
          const p = el.props[pi]!;
          if (p.count) {
            const isIndices = el === r.face && pi === r.indices;
            const n = r.listLength(cur.read(p.count), el, i, isIndices);
            if (isIndices) for (let k = 0; k < n; k++) r.corner(cur.read(p.type), k, i);
            else cur.skip(n * SIZE[p.type]);
          } else if (el === r.vertex) {
            const v = cur.read(p.type);
            const axis = r.axes.indexOf(pi);
            if (axis >= 0) r.position(v, axis, i);
          } else cur.skip(SIZE[p.type]);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
