import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { NodeIO } from "@gltf-transform/core";
import { EXTMeshoptCompression, KHRMeshQuantization } from "@gltf-transform/extensions";
import { MeshoptDecoder } from "meshoptimizer";
import { buildMeshPreview } from "../../src/mesh/mesh.build.ts";
import { MeshReadError, readTriangles } from "../../src/mesh/mesh.reader.ts";
import { tempDir } from "../support/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
function dir() {
  const d = tempDir();
  cleanups.push(d.cleanup);
  return d.dir;
}

/** A closed cube as 12 triangles (8 shared corners). */
const CUBE: number[][] = (() => {
  const v = (x: number, y: number, z: number) => [x, y, z];
  const c = [v(0, 0, 0), v(1, 0, 0), v(1, 1, 0), v(0, 1, 0), v(0, 0, 1), v(1, 0, 1), v(1, 1, 1), v(0, 1, 1)];
  const f = [
    [0, 2, 1],
    [0, 3, 2],
    [4, 5, 6],
    [4, 6, 7],
    [0, 1, 5],
    [0, 5, 4],
    [1, 2, 6],
    [1, 6, 5],
    [2, 3, 7],
    [2, 7, 6],
    [3, 0, 4],
    [3, 4, 7],
  ];
  return f.map((t) => t.flatMap((i) => c[i]!));
})();

function binaryStl(tris: number[][], header = "binary cube"): Buffer {
  const b = Buffer.alloc(84 + 50 * tris.length);
  b.write(header, 0, "latin1");
  b.writeUInt32LE(tris.length, 80);
  tris.forEach((t, i) => t.forEach((x, k) => b.writeFloatLE(x, 84 + i * 50 + 12 + k * 4)));
  return b;
}

function asciiStl(tris: number[][]): string {
  const facets = tris.map(
    (t) => `facet normal 0 0 0\n outer loop\n${[0, 1, 2].map((c) => `  vertex ${t[c * 3]} ${t[c * 3 + 1]} ${t[c * 3 + 2]}`).join("\n")}\n endloop\nendfacet`,
  );
  return `solid cube\n${facets.join("\n")}\nendsolid cube\n`;
}

async function readGlb(file: string) {
  await MeshoptDecoder.ready;
  const io = new NodeIO().registerExtensions([EXTMeshoptCompression, KHRMeshQuantization]).registerDependencies({ "meshopt.decoder": MeshoptDecoder });
  return io.readBinary(new Uint8Array(readFileSync(file)));
}

describe("mesh readers", () => {
  test("binary STL (even one whose header starts with 'solid'), ASCII STL and OBJ give the same triangles", () => {
    const d = dir();
    writeFileSync(path.join(d, "a.stl"), binaryStl(CUBE, "solid but binary"));
    writeFileSync(path.join(d, "b.stl"), asciiStl(CUBE));
    const obj = ["v 0 0 0", "v 1 0 0", "v 1 1 0", "v 0 1 0", "f 1 2 3 4", "f -4 -2 -1"].join("\n");
    writeFileSync(path.join(d, "c.obj"), obj);
    const collect = (f: string) => {
      const out: number[] = [];
      readTriangles(path.join(d, f), (b, n) => out.push(...b.subarray(0, n * 9)));
      return out;
    };
    expect(collect("a.stl")).toEqual(CUBE.flat());
    expect(collect("b.stl")).toEqual(CUBE.flat());
    // The quad becomes a fan of two triangles; negative indices count back from the last vertex.
    expect(collect("c.obj")).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0]);
  });

  test("malformed files fail with a reason naming the file", () => {
    const d = dir();
    const cases: [string, string | Buffer, RegExp][] = [
      ["trunc.stl", binaryStl(CUBE).subarray(0, 84 + 50 * 5), /header says 12 triangles/],
      ["tiny.stl", Buffer.from([1, 2, 3]), /too short/],
      ["bad.stl", "solid x\nfacet normal 0 0 0\nouter loop\nvertex 1 2\nendloop\nendfacet\n", /malformed vertex/],
      ["short.stl", "solid x\nfacet normal 0 0 0\nouter loop\nvertex 1 2 3\nendloop\nendfacet\n", /facet with 1 vertices/],
      ["empty.stl", "solid x\nendsolid x\n", /no triangles/],
      ["ref.obj", "v 0 0 0\nf 1 2 3\n", /refers to vertex 2/],
      ["nan.stl", binaryStl([[NaN, 0, 0, 1, 0, 0, 0, 1, 0]]), /not a finite number/],
    ];
    for (const [name, content, msg] of cases) {
      writeFileSync(path.join(d, name), content);
      expect(() => readTriangles(path.join(d, name), () => {})).toThrow(MeshReadError);
      expect(() => readTriangles(path.join(d, name), () => {})).toThrow(msg);
      expect(() => readTriangles(path.join(d, name), () => {})).toThrow(name);
    }
  });
});

describe("mesh preview", () => {
  test("welds an STL cube into 8 shared vertices and 12 triangles in a meshopt-compressed GLB", async () => {
    const d = dir();
    writeFileSync(path.join(d, "cube.stl"), binaryStl(CUBE));
    const out = path.join(d, "out", "cube.glb");
    const info = await buildMeshPreview(path.join(d, "cube.stl"), out);
    expect(info).toMatchObject({ sourceTriangles: 12, triangles: 12, vertices: 8, bbox: { min: [0, 0, 0], max: [1, 1, 1] } });
    const doc = await readGlb(out);
    const prim = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    expect(prim.getIndices()!.getCount()).toBe(36);
    expect(
      doc
        .getRoot()
        .listExtensionsUsed()
        .map((e) => e.extensionName)
        .sort(),
    ).toEqual(["EXT_meshopt_compression", "KHR_mesh_quantization"]);
  });

  test("simplifies a dense mesh to the preview budget and keeps its shape", async () => {
    const d = dir();
    // A 600x600 grid of quads on a sphere patch: 720,000 triangles.
    const n = 600;
    const b = Buffer.alloc(84 + 50 * n * n * 2);
    b.writeUInt32LE(n * n * 2, 80);
    const p = (i: number, j: number) => {
      const th = (i / n) * Math.PI,
        ph = (j / n) * Math.PI;
      return [Math.sin(th) * Math.cos(ph), Math.sin(th) * Math.sin(ph), Math.cos(th)];
    };
    let t = 0;
    const put = (...v: number[][]) => v.flat().forEach((x, k) => b.writeFloatLE(x, 84 + t * 50 + 12 + k * 4));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        put(p(i, j), p(i + 1, j), p(i + 1, j + 1));
        t++;
        put(p(i, j), p(i + 1, j + 1), p(i, j + 1));
        t++;
      }
    writeFileSync(path.join(d, "dense.stl"), b);
    const progress: number[] = [];
    const info = await buildMeshPreview(path.join(d, "dense.stl"), path.join(d, "dense.glb"), { progress: (f) => progress.push(f) });
    expect(info.sourceTriangles).toBe(720_000);
    expect(info.triangles).toBeLessThanOrEqual(500_000);
    expect(info.triangles).toBeGreaterThan(100_000);
    expect(info.bbox.max[2]).toBeCloseTo(1, 3);
    expect(progress.at(-1)).toBe(1);
    expect(info.bytes).toBeLessThan(b.length / 4);
  });

  test("a cancelled build leaves no file behind", async () => {
    const d = dir();
    writeFileSync(path.join(d, "cube.stl"), binaryStl(CUBE));
    const ac = new AbortController();
    ac.abort();
    await expect(buildMeshPreview(path.join(d, "cube.stl"), path.join(d, "x.glb"), { signal: ac.signal })).rejects.toThrow();
    expect(existsSync(path.join(d, "x.glb"))).toBe(false);
  });
});
