import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_LIMITS } from "../../src/config.ts";
import { PreviewLimitError } from "../../src/errors.ts";
import { buildMeshPreview } from "../../src/mesh/mesh.build.ts";
import { MeshReadError, meshFormat, readTriangles } from "../../src/mesh/mesh.reader.ts";
import { tempDir } from "../support/env.ts";
import { boxMesh, BUNNY_STL, encodePly, indexed, stlTriangles, type IndexedMesh, type PlyFormat } from "./ply.fixture.ts";

const tmp = tempDir("mata-ply-");
afterAll(() => tmp.cleanup());
const bunny = stlTriangles(BUNNY_STL);
const bunnyMesh = indexed(bunny);
const FORMATS: PlyFormat[] = ["binary_little_endian", "binary_big_endian", "ascii"];

function write(name: string, content: string | Buffer): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, content);
  return file;
}

function collect(file: string, limits = DEFAULT_LIMITS): { tris: Float32Array; count: number } {
  const parts: Float32Array[] = [];
  const count = readTriangles(file, (b, n) => parts.push(b.slice(0, n * 9)), undefined, file, limits);
  const tris = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) tris.set(p, (o += p.length) - p.length);
  return { tris, count };
}

/** A unit cube as six quads, and a pentagon through its top corners and a point above: polygons a reader must split into fans. */
const POLYGONS: IndexedMesh = (() => {
  const cube = boxMesh(1, 1, 1);
  return { positions: [...cube.positions, 0.5, 0.5, 2], faces: [...cube.faces, [4, 5, 8, 7, 6]] };
})();

describe("PLY reader", () => {
  test(".ply files are meshes", () => {
    expect(meshFormat("scan/Bunny.PLY")).toBe("ply");
  });

  for (const format of FORMATS)
    test(`the bunny as ${format} PLY, with normals, colours, custom properties and an extra element, gives the STL's triangles`, () => {
      const file = write(`bunny-${format}.ply`, encodePly(bunnyMesh, format));
      const { tris, count } = collect(file);
      expect(count).toBe(69_451);
      expect(tris.length).toBe(bunny.length);
      // Exactly the same floats, corner for corner: nothing was mixed up with the skipped properties.
      let differing = 0;
      for (let i = 0; i < bunny.length; i++) if (tris[i] !== bunny[i]) differing++;
      expect(differing).toBe(0);
    });

  for (const format of FORMATS)
    test(`quads and a pentagon in ${format} become fans of triangles`, () => {
      const { tris, count } = collect(write(`poly-${format}.ply`, encodePly(POLYGONS, format)));
      expect(count).toBe(6 * 2 + 3);
      const p = (i: number) => POLYGONS.positions.slice(i * 3, i * 3 + 3);
      const expected = POLYGONS.faces.flatMap((f) => f.slice(2).flatMap((_, k) => [...p(f[0]!), ...p(f[k + 1]!), ...p(f[k + 2]!)]));
      expect(Array.from(tris)).toEqual(expected);
    });

  test("the bunny PLY builds the same preview as its STL", async () => {
    const ply = write("bunny-build.ply", encodePly(bunnyMesh, "binary_little_endian"));
    const fromPly = await buildMeshPreview(ply, path.join(tmp.dir, "out-ply", "mesh.glb"));
    const fromStl = await buildMeshPreview(BUNNY_STL, path.join(tmp.dir, "out-stl", "mesh.glb"));
    expect(fromPly).toEqual(fromStl);
  });
});

describe("hostile PLY headers and bodies fail with a clear error before anything is allocated for them", () => {
  const head = (lines: string[]) => ["ply", "format binary_little_endian 1.0", ...lines, "end_header", ""].join("\n");
  const vertexProps = ["property float x", "property float y", "property float z"];
  const faceProps = ["property list uchar int vertex_indices"];
  const tri = () => {
    const b = Buffer.alloc(3 * 12 + 1 + 12);
    [0, 0, 0, 1, 0, 0, 0, 1, 0].forEach((x, i) => b.writeFloatLE(x, i * 4));
    b.writeUInt8(3, 36);
    [0, 1, 2].forEach((v, i) => b.writeInt32LE(v, 37 + i * 4));
    return b;
  };
  const hexagons = (n: number, cut: number) => {
    const verts = Buffer.alloc(6 * 12);
    const faces = Buffer.alloc(n * 25);
    for (let f = 0; f < n; f++) {
      faces.writeUInt8(6, f * 25);
      for (let k = 0; k < 6; k++) faces.writeInt32LE(k, f * 25 + 1 + k * 4);
    }
    return Buffer.concat([
      Buffer.from(head(["element vertex 6", ...vertexProps, `element face ${n}`, ...faceProps])),
      verts,
      faces.subarray(0, faces.length - cut),
    ]);
  };

  const cases: [string, string | Buffer, RegExp, typeof MeshReadError | typeof PreviewLimitError][] = [
    ["no-end.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n", /the PLY header ends before end_header \(truncated\)/, MeshReadError],
    ["empty.ply", "", /not a PLY file/, MeshReadError],
    ["plx.ply", "plx\nformat ascii 1.0\nend_header\n", /not a PLY file/, MeshReadError],
    ["format.ply", "ply\nformat binary_middle_endian 1.0\nend_header\n", /unknown PLY format/, MeshReadError],
    ["no-format.ply", head(["element vertex 0", ...vertexProps]).replace("format binary_little_endian 1.0\n", ""), /no format line/, MeshReadError],
    [
      "huge-vertices.ply",
      head(["element vertex 1000000000000", ...vertexProps, "element face 1", ...faceProps]),
      /declares 1,000,000,000,000 vertices, over the limit max_vertices = 30,000,000/,
      PreviewLimitError,
    ],
    [
      "huge-faces.ply",
      head(["element vertex 3", ...vertexProps, "element face 99999999999999999999", ...faceProps]),
      /declares 100,000,000,000,000,000,000 faces, over the limit max_triangles = 50,000,000/,
      PreviewLimitError,
    ],
    // Under the caps but far more than the file holds: refused from the header, not after allocating 300 MB.
    [
      "short.ply",
      Buffer.concat([Buffer.from(head(["element vertex 25000000", ...vertexProps, "element face 1", ...faceProps])), tri()]),
      /declares 25,000,000 vertices and 1 faces \(at least 300,000,013 bytes\), but only 49 bytes follow it/,
      MeshReadError,
    ],
    [
      "huge-other.ply",
      Buffer.concat([
        Buffer.from(head(["element vertex 3", ...vertexProps, "element edge 4000000000000", "property int a", "element face 1", ...faceProps])),
        tri(),
      ]),
      /but only 49 bytes follow it; the file is truncated or its header is wrong/,
      MeshReadError,
    ],
    ["count.ply", head(["element vertex -5", ...vertexProps]), /malformed element "element vertex -5"/, MeshReadError],
    ["exp.ply", head(["element vertex 1e9", ...vertexProps]), /malformed element/, MeshReadError],
    ["type.ply", head(["element vertex 3", "property float128 x"]), /malformed property "property float128 x"/, MeshReadError],
    ["keyword.ply", head(["element vertex 3", "texture foo"]), /unknown keyword "texture"/, MeshReadError],
    [
      "points.ply",
      Buffer.concat([Buffer.from(head(["element vertex 3", ...vertexProps])), Buffer.alloc(36)]),
      /no face element \(a point cloud/,
      MeshReadError,
    ],
    ["no-z.ply", head(["element vertex 3", "property float x", "property float y", "element face 1", ...faceProps]), /no "z" property/, MeshReadError],
    ["no-list.ply", head(["element vertex 3", ...vertexProps, "element face 1", "property int a"]), /no vertex_indices list/, MeshReadError],
    ["order.ply", head(["element face 1", ...faceProps, "element vertex 3", ...vertexProps]), /faces come before vertices/, MeshReadError],
    // Faces longer than the least the header promises: the size check passes and the stream finds the end.
    ["cut.ply", hexagons(4, 30), /truncated in face 2 of 4/, MeshReadError],
    [
      "ref.ply",
      (() => {
        const b = tri();
        b.writeInt32LE(7, 45);
        return Buffer.concat([Buffer.from(head(["element vertex 3", ...vertexProps, "element face 1", ...faceProps])), b]);
      })(),
      /face 0 refers to vertex 7, but the file has 3 vertices/,
      MeshReadError,
    ],
    [
      "two.ply",
      (() => {
        const b = tri();
        b.writeUInt8(2, 36);
        return Buffer.concat([Buffer.from(head(["element vertex 3", ...vertexProps, "element face 1", ...faceProps])), b, Buffer.alloc(4)]);
      })(),
      /face 0 has 2 vertices \(a face needs at least 3\)/,
      MeshReadError,
    ],
    [
      "nan.ply",
      (() => {
        const b = tri();
        b.writeFloatLE(NaN, 4);
        return Buffer.concat([Buffer.from(head(["element vertex 3", ...vertexProps, "element face 1", ...faceProps])), b]);
      })(),
      /vertex 0 has a coordinate that is not a finite number/,
      MeshReadError,
    ],
    [
      "ascii-short.ply",
      // One of two faces, and blank lines enough to pass the size check.
      "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n" +
        "\n".repeat(20),
      /ends after 1 of 2 face rows \(truncated\)/,
      MeshReadError,
    ],
    [
      "ascii-bad.ply",
      "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 zero 0\n0 1 0\n3 0 1 2\n",
      /line 11: vertex 1 has too few or malformed values/,
      MeshReadError,
    ],
  ];
  for (const [name, content, message, kind] of cases)
    test(name, () => {
      const file = write(name, content);
      let caught: unknown;
      try {
        readTriangles(file, () => {}, undefined, name);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(kind);
      expect((caught as Error).message).toStartWith(`${name}: `);
      expect((caught as Error).message).toMatch(message);
    });

  test("the configured caps: max_vertices and max_triangles from the header, and triangles of polygons counted as they stream", () => {
    const file = write("bunny-caps.ply", encodePly(bunnyMesh, "binary_big_endian"));
    expect(() => collect(file, { ...DEFAULT_LIMITS, maxVertices: 1000 })).toThrow(/declares 34,834 vertices, over the limit max_vertices = 1,000/);
    expect(() => collect(file, { ...DEFAULT_LIMITS, maxTriangles: 1000 })).toThrow(/declares 69,451 faces, over the limit max_triangles = 1,000/);
    // 5 hexagons are 20 triangles: under 10 faces, over 10 triangles.
    const hex = write("hex.ply", hexagons(5, 0));
    expect(collect(hex).count).toBe(20);
    expect(() => collect(hex, { ...DEFAULT_LIMITS, maxTriangles: 10 })).toThrow(/more than 10 triangles is over the limit max_triangles = 10/);
  });

  test("a cancelled read stops", () => {
    const file = write("bunny-cancel.ply", encodePly(bunnyMesh, "ascii"));
    const ac = new AbortController();
    ac.abort();
    expect(() => readTriangles(file, () => {}, ac.signal)).toThrow(/abort/i);
  });
});
