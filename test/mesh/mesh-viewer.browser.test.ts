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
import { boxMesh } from "./ply.fixture.ts";

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

/** Builds the preview of an STL, serves it in the viewer's page and opens that page once the surface is drawn. */
async function openViewer(name: string, stl: Buffer) {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, stl);
  const glb = `${file}.glb`;
  await buildMeshPreview(file, glb);
  const app = new Hono();
  mountRoutes(app as never, staticRoutes, requireAccess);
  app.get("/mesh.glb", () => new Response(Bun.file(glb), { headers: { "Content-Type": "model/gltf-binary" } }));
  app.get("/", (c) => c.html(Layout({ title: "Mesh", children: MeshViewer({ src: "/mesh.glb", name }) })));
  const server = serveApp(app);
  const { page, errors } = await newPage(browser);
  await page.goto(server.url + "/");
  await page.waitForSelector(".mesh-viewer[data-ready=true]", { timeout: 20000 });
  return { page, errors, stop: server.stop };
}

test("the mesh viewer draws a GLB preview with WebGL and reports its triangles", async () => {
  const { page, errors, stop } = await openViewer("sphere.stl", sphereStl(4));
  try {
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
    stop();
  }
});

/** A box from the origin to (w, h, d) as 12 triangles of binary STL, in the file's units. */
function boxStl(w: number, h: number, d: number): Buffer {
  const box = boxMesh(w, h, d);
  const tris = box.faces.flatMap(([a, b, e, f]) => [
    [a!, b!, e!],
    [a!, e!, f!],
  ]);
  const buf = Buffer.alloc(84 + 50 * tris.length);
  buf.writeUInt32LE(tris.length, 80);
  tris.forEach((t, i) => t.forEach((vi, k) => [0, 1, 2].forEach((j) => buf.writeFloatLE(box.positions[vi * 3 + j]!, 84 + i * 50 + 12 + k * 12 + j * 4))));
  return buf;
}

test("the distance tool measures between two clicked points in the file's units; the clipping plane cuts the surface away by keyboard", async () => {
  const { page, errors, stop } = await openViewer("box.stl", boxStl(40, 20, 10));
  try {
    const canvas = (await page.$(".mesh-viewer canvas"))!;
    /** Clicks where a point of the box's surface appears (relative to the canvas, which may have scrolled). */
    const clickAt = async (p: [number, number, number]) => {
      const [x, y] = await page.evaluate(
        (q) => (document.querySelector(".mesh-viewer") as unknown as { meshViewer: { project: (...v: number[]) => number[] } }).meshViewer.project(...q),
        p,
      );
      await canvas.click({ position: { x: x!, y: y! } });
    };
    const distanceText = () => page.textContent(".mesh-distance").then((t) => t ?? "");

    // Two points 30 apart on the box's top face (z = 10), facing the camera.
    await page.getByRole("button", { name: "Measure distance" }).click();
    expect(await page.getAttribute("[data-action=measure]", "aria-pressed")).toBe("true");
    await clickAt([5, 10, 10]);
    expect(await distanceText()).toMatch(/^A \(5\.\d+, 10\.\d+, 10\.\d+\)/);
    await clickAt([35, 10, 10]);
    const text = await distanceText();
    const m = /^Distance: ([\d.]+) units of the file from A \(([-\d.]+), ([-\d.]+), ([-\d.]+)\) to B \(([-\d.]+), ([-\d.]+), ([-\d.]+)\)$/.exec(text);
    expect(m).not.toBeNull();
    const [distance, ax, ay, az, bx, by, bz] = m!.slice(1).map(Number) as number[];
    expect(Math.abs(distance! - 30)).toBeLessThan(0.3);
    for (const [got, want] of [
      [ax, 5],
      [ay, 10],
      [az, 10],
      [bx, 35],
      [by, 10],
      [bz, 10],
    ])
      expect(Math.abs(got! - want!)).toBeLessThan(0.3);
    // By keyboard: Enter on the focused view picks the point under the centre cross, starting a new pair.
    await canvas.focus();
    await page.keyboard.press("Enter");
    expect(await distanceText()).toMatch(/^A \([-\d.]+, [-\d.]+, [-\d.]+\): now pick the second point\.$/);
    await page.getByRole("button", { name: "Clear points" }).click();

    /** How many pixels of the canvas show something other than the background. */
    const drawn = () =>
      page.evaluate(() => {
        const c = document.querySelector(".mesh-viewer canvas") as HTMLCanvasElement;
        const gl = c.getContext("webgl2")!;
        const px = new Uint8Array(c.width * c.height * 4);
        gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - 0x20) + Math.abs(px[i + 1]! - 0x24) + Math.abs(px[i + 2]! - 0x2b) > 24) n++;
        return n;
      });
    const whole = await drawn();
    expect(whole).toBeGreaterThan(1000);
    // Everything with the keyboard: the labelled controls take the focus and keys in order.
    await page.getByLabel("Clip").focus();
    await page.keyboard.press("Space");
    await page.getByLabel("Axis").selectOption({ label: "X" });
    const position = page.getByLabel("Position");
    await position.focus();
    await page.keyboard.press("End");
    expect(await page.textContent(".mesh-clip-value")).toBe("showing X ≤ 40.00 units of the file");
    expect(Math.abs((await drawn()) - whole)).toBeLessThan(whole * 0.02);
    await page.keyboard.press("Home");
    await position.press("ArrowRight");
    for (let i = 0; i < 5; i++) await page.keyboard.press("PageUp");
    const half = await drawn();
    expect(half).toBeGreaterThan(whole * 0.25);
    expect(half).toBeLessThan(whole * 0.8);
    await page.keyboard.press("Home");
    expect(await page.textContent(".mesh-clip-value")).toBe("showing X ≤ 0.00 units of the file");
    // Only the end face at x = 0 is left (seen from behind, through where the rest was).
    expect(await drawn()).toBeLessThan(half * 0.4);
    // The other side: at the middle again, the far half shows instead.
    for (let i = 0; i < 5; i++) await page.keyboard.press("PageUp");
    await page.getByLabel("Keep the other side").check();
    const otherHalf = await drawn();
    expect(otherHalf).toBeGreaterThan(whole * 0.25);
    expect(otherHalf).not.toBe(half);
    await screenshot(page, "mesh-viewer-tools");
    // Off again: the whole box.
    await page.getByLabel("Clip").uncheck();
    expect(Math.abs((await drawn()) - whole)).toBeLessThan(whole * 0.02);
    expect(errors).toEqual([]);
  } finally {
    stop();
  }
}, 60_000);
