// The pages keep working under a Content-Security-Policy that allows only our own script files and the import map:
// no inline script or eval is needed anywhere (static/README.md).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { Layout, SCRIPT_SRC } from "../../templates/layout.tsx";
import { MeshViewer } from "../../templates/mesh/viewer.tsx";
import { withUser } from "../support/auth.ts";
import { launchBrowser, newPage, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { addDataset, relate, setTags, t } from "../search/fixtures.ts";

const CSP = `default-src 'self'; script-src ${SCRIPT_SRC}; style-src 'self' 'unsafe-inline'; img-src 'self' data:`;
const ctx = testContext();
let browser: Browser;
let server: { url: string; stop: () => void };
let cookie = "";
const ids = { scan: 0, seg: 0 };

beforeAll(async () => {
  ids.scan = addDataset(ctx.db, { title: "Sheep femur CT", owner: "admin" });
  ids.seg = addDataset(ctx.db, { title: "Femur segmentation", owner: "admin" });
  relate(ctx.db, ids.seg, ids.scan);
  setTags(ctx.db, ids.seg, [t("Species", "sheep")]);
  cookie = withUser(ctx, "admin", { admin: true }).cookie;
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("Content-Security-Policy", CSP);
  });
  // A control: an inline script is refused, so the listener below does see refusals.
  app.get("/inline", (c) => c.html("<!DOCTYPE html><title>inline</title><script>document.title = 'ran'</script>"));
  // The mesh viewer's module graph (three through the import map) loads; the missing surface is reported in the page.
  app.get("/mesh", (c) => c.html(Layout({ title: "Mesh", children: MeshViewer({ src: "/missing.glb", name: "missing.stl" }) })));
  app.route("/", createApp(ctx));
  server = serveApp(app);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx.cleanup();
});

/** A signed-in page that records every Content-Security-Policy refusal the browser reports. */
async function watchedPage(): Promise<{ page: Page; errors: string[]; refused: string[] }> {
  const { page, errors } = await newPage(browser);
  const [name, value] = cookie.split("=") as [string, string];
  await page.context().addCookies([{ name, value, url: server.url }]);
  const refused: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  return { page, errors, refused };
}

test("an inline script is refused under the policy (the control)", async () => {
  const { page, refused } = await watchedPage();
  await page.goto(server.url + "/inline");
  await page.waitForTimeout(200);
  expect(await page.title()).toBe("inline");
  expect(refused.length).toBe(1);
  await page.close();
});

test("the dataset page runs htmx and every module with no refusal", async () => {
  const { page, errors, refused } = await watchedPage();
  await page.goto(`${server.url}/datasets/${ids.seg}`);
  // graph.js (with vis-network and lib/dom.js) drew the network; htmx loaded the sharing panel.
  await page.waitForSelector(".relation-graph[data-state=drawn]", { timeout: 20_000 });
  await page.waitForFunction(() => !document.body.textContent?.includes("Loading sharing…"), undefined, { timeout: 10_000 });
  // tags.js set its response handling (one rule more than htmx's four).
  expect(await page.evaluate(() => (window as any).htmx.config.responseHandling.length)).toBe(5);
  // tags/suggest.js lists tag keys as one types.
  await page.locator("input[data-suggest=keys]").first().focus();
  await page.keyboard.type("Spe");
  await page.waitForSelector(".suggest-list li[role=option]", { timeout: 10_000 });
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 40_000);

test("the mesh viewer's modules load through the import map with no refusal", async () => {
  const { page, errors, refused } = await watchedPage();
  await page.goto(server.url + "/mesh");
  await page.waitForSelector(".mesh-viewer[data-ready=error]", { timeout: 20_000 });
  expect(await page.textContent(".mesh-status")).toContain("could not be loaded");
  expect(refused).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);
