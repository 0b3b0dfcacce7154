// The pages work under the app's own headers (src/web/security-headers.ts), not a policy a test sets: the dataset
// page (htmx, the relation graph, the sharing panel), the slice viewer and the mesh viewer over previews the real
// queue built, and the API reference (Swagger UI). Every Content-Security-Policy refusal the browser reports fails.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { withUser } from "../support/auth.ts";
import { launchBrowser, newPage, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
let browser: Browser;
let server: { url: string; stop: () => void };
let stopJobs: () => Promise<void> = async () => {};
let cookie = "";
const ids = { volume: 0, mesh: 0 };

/** A closed tetrahedron as ASCII STL. */
const TETRA = (() => {
  const v = [
    [0, 0, 0],
    [10, 0, 0],
    [0, 10, 0],
    [0, 0, 10],
  ];
  const faces = [
    [0, 2, 1],
    [0, 1, 3],
    [0, 3, 2],
    [1, 2, 3],
  ];
  const facet = (f: number[]) => `facet normal 0 0 0\n outer loop\n${f.map((i) => `  vertex ${v[i]!.join(" ")}\n`).join("")} endloop\nendfacet\n`;
  return `solid tetra\n${faces.map(facet).join("")}endsolid tetra\n`;
})();

beforeAll(async () => {
  ids.volume = addDataset(ctx, "ball");
  writeMetaImage(path.join(ctx.config.root, "ball"), "vol", [64, 48, 32], (x, y, z) => ((x - 32) ** 2 + (y - 24) ** 2 + (z - 16) ** 2 < 200 ? 3000 : 100));
  ids.mesh = addDataset(ctx, "surface");
  writeFileSync(path.join(ctx.config.root, "surface", "tetra.stl"), TETRA);
  for (const id of Object.values(ids)) ctx.db.query("UPDATE datasets SET owner = 'ann' WHERE id = ?").run(id);
  stopJobs = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, ids.volume);
  commitChange(ctx, ids.mesh);
  await waitFor("previews ready", () => previewSummary(ctx, ids.volume).state === "ready" && previewSummary(ctx, ids.mesh).state === "ready", 120_000);
  cookie = withUser(ctx, "ann").cookie;
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  server?.stop();
  await stopJobs();
  ctx.cleanup();
});

/** A signed-in page recording every policy refusal, and the policy its documents were served with. */
async function watchedPage(): Promise<{ page: Page; errors: string[]; refused: string[]; policies: string[] }> {
  const { page, errors } = await newPage(browser);
  const [name, value] = cookie.split("=") as [string, string];
  await page.context().addCookies([{ name, value, url: server.url }]);
  const refused: string[] = [];
  const policies: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  page.on("response", (r) => {
    if (r.request().resourceType() === "document") policies.push(r.headers()["content-security-policy"] ?? "");
  });
  return { page, errors, refused, policies };
}

test("the dataset page: htmx, the relation graph and the sharing panel run with no refusal", async () => {
  const { page, errors, refused, policies } = await watchedPage();
  await page.goto(`${server.url}/datasets/${ids.volume}`);
  await page.waitForSelector(".relation-graph[data-state=drawn]", { timeout: 20_000 });
  await page.waitForFunction(() => !document.body.textContent?.includes("Loading sharing…"), undefined, { timeout: 10_000 });
  expect(policies[0]).toContain("script-src 'self'");
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 40_000);

test("the slice viewer draws its tiles with no refusal", async () => {
  const { page, errors, refused } = await watchedPage();
  await page.goto(`${server.url}/datasets/${ids.volume}/viewer`);
  await page.waitForSelector('.mata-viewer[data-state="ready"]', { timeout: 15_000 });
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("the mesh viewer loads three through the import map and decodes the GLB (WebAssembly) with no refusal", async () => {
  const { page, errors, refused } = await watchedPage();
  await page.goto(`${server.url}/datasets/${ids.mesh}`);
  await page.waitForSelector(".mesh-viewer[data-ready=true]", { timeout: 20_000 });
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("the API reference (Swagger UI) renders with no refusal", async () => {
  const { page, errors, refused } = await watchedPage();
  await page.goto(`${server.url}/api/docs`);
  await page.waitForSelector(".opblock-tag", { timeout: 20_000 });
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("an injected inline script would not run: the policy the browser got refuses it (the control)", async () => {
  const { page, refused } = await watchedPage();
  await page.goto(`${server.url}/datasets/${ids.volume}`);
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "document.title = 'ran'";
    document.body.append(s);
  });
  await page.waitForTimeout(200);
  expect(await page.title()).not.toBe("ran");
  expect(refused.length).toBeGreaterThan(0);
  await page.close();
}, 30_000);
