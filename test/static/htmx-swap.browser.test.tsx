// Page modules run once per page, yet panels htmx swaps in later (the preview panel's polling, a graph, a mesh viewer)
// must come to life too, whether their module arrives with the swap or was loaded before (static/lib/dom.js).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Browser } from "playwright-core";
import { staticRoutes } from "../../src/web/static.routes.ts";
import { mountRoutes } from "../../src/web/route.ts";
import { requireAccess } from "../../src/access/access.middleware.ts";
import type { PreviewView } from "../../src/preview/preview.service.ts";
import { RelationGraph } from "../../templates/graph/graph.tsx";
import { Layout } from "../../templates/layout.tsx";
import { MeshViewer } from "../../templates/mesh/viewer.tsx";
import { PreviewPanel } from "../../templates/preview/viewer.tsx";
import { launchBrowser, newPage, serveApp } from "../support/browser.ts";

let browser: Browser;
let server: { url: string; stop: () => void };

/** A ready 64³ volume preview, n-th of the dataset; its tiles are never found (the panes stay black). */
const volume = (n: number): PreviewView => ({
  n,
  file: `vol${n}.mhd`,
  kind: "volume",
  format: "metaimage",
  state: "ready",
  progress: 1,
  size: [64, 64, 64],
  dtype: "uint8",
  spacing: [1, 1, 1],
  unit: "px",
  window: null,
  levels: 1,
  notes: [],
  tiles: `/api/v1/datasets/1/previews/${n}/tiles`,
  version: `v${n}`,
  complete: true,
});

beforeAll(async () => {
  const app = new Hono();
  mountRoutes(app as never, staticRoutes, requireAccess);
  let swaps = 0;
  app.get("/", (c) =>
    c.html(
      Layout({
        title: "Swaps",
        children: [
          <button type="button" id="go" hx-get="/panel" hx-target="#slot" hx-swap="innerHTML">
            Load
          </button>,
          <div id="slot"></div>,
        ],
      }),
    ),
  );
  // Each swap brings a new preview panel, graph and mesh viewer, with their script tags, as the real pages do.
  app.get("/panel", (c) => {
    swaps++;
    return c.html(
      <div data-swap={String(swaps)}>
        {PreviewPanel({ datasetId: 1, summary: { state: "ready", progress: 1 }, previews: [volume(0), volume(1)] })}
        {RelationGraph({ datasetId: 1, height: "200px" })}
        {MeshViewer({ src: "/missing.glb", name: "missing.stl" })}
      </div>,
    );
  });
  app.get("/api/v1/datasets/:id/previews/:n/tiles/info", (c) => c.json({ scales: [{ key: "1_1_1", size: [64, 64, 64], resolution: [1, 1, 1] }] }));
  app.get("/api/v1/datasets/:id/graph", (c) =>
    c.json({
      id: 1,
      limit: 150,
      more: false,
      tags: { shown: false, truncated: false },
      edges: [{ from: "d2", to: "d1", kind: "derived" }],
      nodes: [
        { id: "d1", kind: "dataset", datasetId: 1, label: "one", path: "one", state: "present", role: "self" },
        { id: "d2", kind: "dataset", datasetId: 2, label: "two", path: "two", state: "present", role: "ancestor" },
      ],
    }),
  );
  server = serveApp(app);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

test("swapped-in viewers, chooser, graph and mesh viewer start, on the first swap and on later ones", async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(server.url + "/");
  for (const swap of [1, 2]) {
    await page.click("#go");
    const panel = `#slot [data-swap="${swap}"]`;
    await page.waitForSelector(`${panel} .mata-viewer[data-state=ready]`, { timeout: 20_000 });
    await page.waitForSelector(`${panel} .relation-graph[data-state=drawn]`, { timeout: 20_000 });
    await page.waitForSelector(`${panel} .mesh-viewer[data-ready=error]`, { timeout: 20_000 });
    expect(await page.locator(`${panel} .viewer-pane`).count()).toBe(3);
    // The chooser puts a viewer of the other volume in place, started like the first.
    await page.selectOption(`${panel} select.viewer-choose`, "/api/v1/datasets/1/previews/1");
    await page.waitForSelector(`${panel} .mata-viewer[data-base$="/previews/1"][data-state=ready]`, { timeout: 10_000 });
    expect(await page.locator(`${panel} .mata-viewer`).count()).toBe(1);
    expect(await page.locator(`${panel} .viewer-toolbar button`).count()).toBe(5);
  }
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);
