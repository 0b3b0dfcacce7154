import { Document, Logger, NodeIO } from "@gltf-transform/core";
import { EXTMeshoptCompression, KHRMeshQuantization } from "@gltf-transform/extensions";
import { quantize, reorder, simplify } from "@gltf-transform/functions";
import { MeshoptEncoder, MeshoptSimplifier } from "meshoptimizer";
import { MeshReadError, readTriangles } from "./mesh.reader.ts";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../platform/fs.ts";
import { DEFAULT_LIMITS, type PreviewLimits } from "../config.ts";
import { checkVertices } from "./mesh.limits.ts";
import { writeMeshThumbnail } from "./mesh.thumbnail.ts";

/** Browsers with integrated GPUs struggle above about half a million triangles (RECIPES). */
export const MAX_PREVIEW_TRIANGLES = 500_000;
/** Above this many source triangles, vertices are clustered on a coarser grid while streaming, keeping memory bounded. */
const CLUSTER_ABOVE = 2_000_000;

/** What a mesh preview build reports, kept with the preview. */
export interface MeshPreviewInfo {
  sourceTriangles: number;
  triangles: number;
  vertices: number;
  bbox: { min: [number, number, number]; max: [number, number, number] };
  bytes: number;
  /** The thumbnail's file name beside the GLB, when one was asked for and drawn. */
  thumbnail?: string;
}

/** A growable typed array, so streaming never keeps more than the output mesh. */
class Grow<T extends Float32Array | Uint32Array> {
  length = 0;
  constructor(public data: T) {}
  push3(a: number, b: number, c: number): void {
    if (this.length + 3 > this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = a;
    this.data[this.length++] = b;
    this.data[this.length++] = c;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/**
 * Turns an STL, OBJ or PLY file into a compact web-ready GLB (welded, simplified to at most
 * MAX_PREVIEW_TRIANGLES, quantized, meshopt-compressed), written atomically to `outFile`; with `thumbnail`,
 * also a PNG of the simplified surface for lists (mesh.thumbnail.ts), drawn before quantization from its floats.
 */
export async function buildMeshPreview(
  file: string,
  outFile: string,
  opts: { signal?: AbortSignal; progress?: (f: number) => void; name?: string; limits?: PreviewLimits; thumbnail?: string } = {},
): Promise<MeshPreviewInfo> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  // Pass 1: bounds and count.
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const total = readTriangles(
    file,
    (batch, n) => {
      for (let i = 0; i < n * 9; i++) {
        const v = batch[i]!;
        const k = i % 3;
        if (v < min[k]!) min[k] = v;
        if (v > max[k]!) max[k] = v;
      }
    },
    opts.signal,
    opts.name,
    limits,
  );
  opts.progress?.(0.3);

  // Pass 2: weld vertices on a grid (fine enough to be lossless for display unless the mesh is huge).
  const grid = total > CLUSTER_ABOVE ? 1024 : 65535;
  const scale = [0, 1, 2].map((k) => (max[k]! > min[k]! ? grid / (max[k]! - min[k]!) : 0));
  const ids = new Map<number, number>();
  const positions = new Grow(new Float32Array(3 * 65536));
  const indices = new Grow(new Uint32Array(3 * 65536));
  const vertexId = (x: number, y: number, z: number): number => {
    const key = Math.round((x - min[0]) * scale[0]!) + (grid + 1) * (Math.round((y - min[1]) * scale[1]!) + (grid + 1) * Math.round((z - min[2]) * scale[2]!));
    let id = ids.get(key);
    if (id === undefined) {
      id = positions.length / 3;
      if (id >= limits.maxVertices) checkVertices(opts.name ?? file, id + 1, limits);
      ids.set(key, id);
      positions.push3(x, y, z);
    }
    return id;
  };
  let seen = 0;
  readTriangles(
    file,
    (b, n) => {
      for (let t = 0; t < n; t++) {
        const o = t * 9;
        const a = vertexId(b[o]!, b[o + 1]!, b[o + 2]!);
        const c = vertexId(b[o + 3]!, b[o + 4]!, b[o + 5]!);
        const d = vertexId(b[o + 6]!, b[o + 7]!, b[o + 8]!);
        // Triangles collapsed by welding add nothing to the picture.
        if (a !== c && c !== d && a !== d) indices.push3(a, c, d);
      }
      seen += n;
      opts.progress?.(0.3 + (0.4 * seen) / total);
    },
    opts.signal,
    opts.name,
    limits,
  );
  ids.clear();
  // Every triangle collapsed (all corners one point, or a line): there is no surface, and the tools below assert on it.
  if (indices.length === 0) throw new MeshReadError(`${opts.name ?? file}: every triangle is degenerate (no area); there is no surface to show`);

  const doc = new Document().setLogger(new Logger(Logger.Verbosity.ERROR));
  const buffer = doc.createBuffer();
  const prim = doc
    .createPrimitive()
    .setAttribute("POSITION", doc.createAccessor().setType("VEC3").setArray(positions.view()).setBuffer(buffer))
    .setIndices(doc.createAccessor().setType("SCALAR").setArray(indices.view()).setBuffer(buffer))
    .setMaterial(doc.createMaterial("surface").setBaseColorFactor([0.82, 0.76, 0.7, 1]).setDoubleSided(true).setRoughnessFactor(0.7).setMetallicFactor(0));
  doc.createScene().addChild(doc.createNode().setMesh(doc.createMesh().addPrimitive(prim)));

  await Promise.all([MeshoptSimplifier.ready, MeshoptEncoder.ready]);
  const triangles = indices.length / 3;
  if (triangles > MAX_PREVIEW_TRIANGLES) {
    await doc.transform(simplify({ simplifier: MeshoptSimplifier, ratio: MAX_PREVIEW_TRIANGLES / triangles, error: 0.01, lockBorder: false }));
  }
  opts.signal?.throwIfAborted();
  if (opts.thumbnail) {
    const simplified = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    await writeMeshThumbnail(simplified.getAttribute("POSITION")!.getArray()!, simplified.getIndices()!.getArray()!, opts.thumbnail);
    opts.signal?.throwIfAborted();
  }
  await doc.transform(reorder({ encoder: MeshoptEncoder }), quantize());
  doc.createExtension(EXTMeshoptCompression).setRequired(true).setEncoderOptions({ method: EXTMeshoptCompression.EncoderMethod.QUANTIZE });
  const io = new NodeIO().registerExtensions([EXTMeshoptCompression, KHRMeshQuantization]).registerDependencies({ "meshopt.encoder": MeshoptEncoder });
  const glb = await io.writeBinary(doc);
  opts.signal?.throwIfAborted();
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileAtomic(path.dirname(outFile), path.basename(outFile), glb);
  opts.progress?.(1);

  const outPrim = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  return {
    sourceTriangles: total,
    triangles: (outPrim.getIndices()?.getCount() ?? 0) / 3,
    vertices: outPrim.getAttribute("POSITION")?.getCount() ?? 0,
    bbox: { min, max },
    bytes: glb.byteLength,
    ...(opts.thumbnail ? { thumbnail: path.basename(opts.thumbnail) } : {}),
  };
}
