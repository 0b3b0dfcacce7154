import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Hono } from "hono";
import type { Browser } from "playwright-core";
import { staticRoutes } from "../../src/web/static.routes.ts";
import { mountRoutes } from "../../src/web/route.ts";
import { requireAccess } from "../../src/access/access.middleware.ts";
import { buildMeshPreview } from "../../src/mesh/mesh.build.ts";
import { Layout } from "../../templates/layout.tsx";
import { MeshViewer } from "../../templates/mesh/viewer.tsx";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { tempDir } from "../support/env.ts";

let browser: Browser;
const tmp = tempDir();
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  tmp.cleanup();
});

/** An icosahedron-based sphere as binary STL. */
function sphereStl(subdiv: number): Buffer {
  const t = (1 + Math.sqrt(5)) / 2;
  let verts = [
    [-1, t, 0],
    [1, t, 0],
    [-1, -t, 0],
    [1, -t, 0],
    [0, -1, t],
    [0, 1, t],
    [0, -1, -t],
    [0, 1, -t],
    [t, 0, -1],
    [t, 0, 1],
    [-t, 0, -1],
    [-t, 0, 1],
  ].map(norm);
  let faces = [
    [0, 11, 5],
    [0, 5, 1],
    [0, 1, 7],
    [0, 7, 10],
    [0, 10, 11],
    [1, 5, 9],
    [5, 11, 4],
    [11, 10, 2],
    [10, 7, 6],
    [7, 1, 8],
    [3, 9, 4],
    [3, 4, 2],
    [3, 2, 6],
    [3, 6, 8],
    [3, 8, 9],
    [4, 9, 5],
    [2, 4, 11],
    [6, 2, 10],
    [8, 6, 7],
    [9, 8, 1],
  ];
  function norm(v: number[]) {
    const l = Math.hypot(v[0]!, v[1]!, v[2]!);
    return v.map((x) => x / l);
  }
  for (let s = 0; s < subdiv; s++) {
    const next: number[][] = [];
    const mid = new Map<string, number>();
    const m = (a: number, b: number) => {
      const k = a < b ? `${a},${b}` : `${b},${a}`;
      if (!mid.has(k)) {
        verts.push(norm(verts[a]!.map((x, i) => (x + verts[b]![i]!) / 2)));
        mid.set(k, verts.length - 1);
      }
      return mid.get(k)!;
    };
    for (const [a, b, c] of faces as [number, number, number][]) {
      const ab = m(a, b),
        bc = m(b, c),
        ca = m(c, a);
      next.push([a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]);
    }
    faces = next;
  }
  const buf = Buffer.alloc(84 + 50 * faces.length);
  buf.writeUInt32LE(faces.length, 80);
  faces.forEach((f, i) => f.forEach((vi, c) => verts[vi]!.forEach((x, k) => buf.writeFloatLE(x, 84 + i * 50 + 12 + c * 12 + k * 4))));
  return buf;
}

test("the mesh viewer draws a GLB preview with WebGL and reports its triangles", async () => {
  const stl = path.join(tmp.dir, "sphere.stl");
  writeFileSync(stl, sphereStl(4));
  const glb = path.join(tmp.dir, "sphere.glb");
  await buildMeshPreview(stl, glb);
  const app = new Hono();
  mountRoutes(app as never, staticRoutes, requireAccess);
  app.get("/mesh.glb", () => new Response(Bun.file(glb), { headers: { "Content-Type": "model/gltf-binary" } }));
  app.get("/", (c) => c.html(Layout({ title: "Mesh", children: MeshViewer({ src: "/mesh.glb", name: "sphere.stl" }) })));
  const server = serveApp(app);
  try {
    const { page, errors } = await newPage(browser);
    await page.goto(server.url + "/");
    await page.waitForSelector(".mesh-viewer[data-ready=true]", { timeout: 20000 });
    expect(await page.textContent(".mesh-status")).toContain("5,120 triangles");
    // The sphere is drawn: the centre pixel differs from the background colour.
    const centre = await page.evaluate(() => {
      const c = document.querySelector(".mesh-viewer canvas") as HTMLCanvasElement;
      const gl = c.getContext("webgl2")!;
      const px = new Uint8Array(4);
      gl.readPixels(c.width / 2, c.height / 2, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      return Array.from(px);
    });
    expect(centre.slice(0, 3)).not.toEqual([0x20, 0x24, 0x2b]);
    await page.click("[data-action=wireframe]");
    await screenshot(page, "mesh-viewer");
    expect(errors).toEqual([]);
  } finally {
    server.stop();
  }
});
