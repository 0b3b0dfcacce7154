import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { addDataset, relate, setTags, t } from "./fixtures.ts";

let browser: Browser;
let server: { url: string; stop: () => void };
const ctx = testContext();
const ids = { scan: 0, seg: 0, micro: 0, fused: 0, heart: 0 };
let cookie = "";

beforeAll(async () => {
  const db = ctx.db;
  ids.scan = addDataset(db, { title: "Lung biopsy micro-CT scan", description: "Original micro-CT scan of a lung biopsy", owner: "alice" });
  ids.seg = addDataset(db, { title: "Lung biopsy segmentation", description: "Airways segmented from the lung scan", owner: "alice" });
  ids.micro = addDataset(db, { title: "Lung biopsy microscopy", description: "Matching 3D microscopy stack", owner: "bob" });
  ids.fused = addDataset(db, { title: "Fused CT + microscopy", description: "Registration result", owner: "bob" });
  ids.heart = addDataset(db, { title: "Sheep heart", description: "Heart", owner: "carol" });
  relate(db, ids.seg, ids.scan);
  relate(db, ids.fused, ids.scan, ids.micro);
  const patient = t("Patient", "P-17", [t("Species", "human"), t("Sex", "f")]);
  setTags(db, ids.scan, [patient, t("Organ", "lung"), t("Modality", "micro-CT")]);
  setTags(db, ids.seg, [patient, t("Organ", "lung")]);
  setTags(db, ids.micro, [t("Patient", "P-17", [t("Species", "human")]), t("Organ", "lung"), t("Modality", "microscopy")]);
  setTags(db, ids.fused, [t("Organ", "lung")]);
  setTags(db, ids.heart, [t("Species", "sheep"), t("Organ", "heart"), t("Speceis", "sheep")]);
  const user = withUser(ctx, "admin", { admin: true });
  cookie = user.cookie.slice(user.cookie.indexOf("=") + 1);
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx.cleanup();
});

async function signedInPage(): Promise<{ page: Page; errors: string[] }> {
  const p = await newPage(browser);
  await p.page.context().addCookies([{ name: "mata_session", value: cookie, url: server.url }]);
  return p;
}

test("search from the header, see highlighted results ranked by matches, open one", async () => {
  const { page, errors } = await signedInPage();
  await page.goto(`${server.url}/tags`);
  const box = page.locator("header.top input[name=q]");
  await box.fill("lung bio");
  // Search-as-you-type: the last word is a prefix.
  await page.locator("#search-suggest li a").first().waitFor();
  expect(await page.locator("#search-suggest li").count()).toBe(3);
  await screenshot(page, "search-suggest");
  await box.press("Enter");
  await page.waitForURL(/\/search\?q=lung\+bio$/);
  // "bio" is no word of any dataset: the page falls back to it as a prefix, and says so.
  expect(await page.locator(".search-expanded").textContent()).toContain("lung bio*");
  await page.locator(".search-hit").first().waitFor();
  expect(await page.locator(".search-hit").count()).toBe(3);
  expect(await page.locator(".search-hit mark").count()).toBeGreaterThan(3);
  expect(await page.locator(".search-facets a", { hasText: "Organ = lung" }).count()).toBe(1);
  await screenshot(page, "search-results");
  const first = page.locator(".search-hit-title").first();
  const href = await first.getAttribute("href");
  expect(href).toMatch(/^\/datasets\/\d+$/);
  await first.click();
  await page.waitForURL(`${server.url}${href}`);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("a facet narrows the results, typing in the search page updates them", async () => {
  const { page, errors } = await signedInPage();
  await page.goto(`${server.url}/search?q=lung`);
  await page.locator(".search-facets a", { hasText: "Modality = micro-CT" }).click();
  await page.waitForURL(/tag=Modality%3Dmicro-CT/);
  expect(await page.locator(".search-hit").count()).toBe(1);
  await page.locator("#search-q").fill("microscopy");
  await page.locator(".search-none").waitFor();
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("click a tag in the cloud and land on its tag page", async () => {
  const { page, errors } = await signedInPage();
  await page.goto(`${server.url}/tags`);
  const organ = page.locator(".cloud-tag", { hasText: "Organ = lung" });
  const typo = page.locator(".cloud-tag", { hasText: "Speceis = sheep" });
  const sizeOf = async (l: typeof organ) => parseFloat(await l.evaluate((e) => getComputedStyle(e).fontSize));
  expect(await sizeOf(organ)).toBeGreaterThan(await sizeOf(typo));
  await screenshot(page, "tag-cloud");
  await page.locator(".cloud-tag", { hasText: "Species = human" }).click();
  await page.waitForURL(/\/tags\/[0-9a-f]{64}$/);
  expect(await page.locator("h1").textContent()).toBe("Tag Species = human");
  await page.goto(`${server.url}/tags`);
  // Patient = P-17 heads two different subtrees: the user picks one, then sees its datasets.
  await page.locator(".cloud-tag", { hasText: "Patient = P-17" }).click();
  await page.waitForURL(/\/tags\/by\?/);
  await page.locator(".tag-variants a", { hasText: "2 datasets" }).click();
  await page.waitForURL(/\/tags\/[0-9a-f]{64}$/);
  expect(await page.locator(".tag-datasets li").count()).toBe(2);
  await screenshot(page, "tag-page");
  await page.goto(`${server.url}/tags?mode=keys`);
  expect(await page.locator(".cloud-tag").allTextContents()).toEqual(["Modality", "Organ", "Patient", "Sex", "Speceis", "Species"]);
  expect(errors).toEqual([]);
  await page.close();
}, 30_000);

test("the relation network is drawn, the current dataset highlighted, and a click opens a dataset", async () => {
  const { page, errors } = await signedInPage();
  await page.goto(`${server.url}/datasets/${ids.seg}/graph`);
  const root = page.locator(".relation-graph");
  await page.waitForSelector(".relation-graph[data-state=drawn][data-stable]", { timeout: 20_000 });
  const painted = await page.locator(".relation-graph canvas").evaluate((c: HTMLCanvasElement) => {
    const g = c.getContext("2d")!;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let blue = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i]! > 180 && d[i + 1]! < 70 && d[i + 2]! < 70) red++;
      if (d[i]! < 60 && d[i + 1]! > 70 && d[i + 1]! < 120 && d[i + 2]! > 170) blue++;
    }
    return { red, blue };
  });
  // The current dataset is red, its relatives blue (as in the paper's figure).
  expect(painted.red).toBeGreaterThan(200);
  expect(painted.blue).toBeGreaterThan(600);
  expect(await root.getAttribute("data-nodes")).not.toBe("4"); // tags shown too
  await screenshot(page, "relation-network");
  const target = `d${ids.micro}`;
  const point = await root.evaluate((el: any, id: string) => {
    const net = el.__network;
    const p = net.canvasToDOM(net.getPosition(id));
    const r = el.querySelector(".graph-canvas").getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, target);
  await page.mouse.click(point.x, point.y);
  await page.waitForURL(`${server.url}/datasets/${ids.micro}`);
  expect(errors).toEqual([]);
  await page.close();
}, 40_000);

test("a network of 10,000 related datasets opens bounded, and show more grows it step by step", async () => {
  const db = ctx.db;
  const chain: number[] = [];
  db.transaction(() => {
    for (let i = 0; i < 10_000; i++) {
      const id = addDataset(db, { title: `slice ${i}` });
      chain.push(id);
      if (i > 0) relate(db, id, chain[i - 1]!);
      if (i >= 50) relate(db, id, chain[i - 50]!);
    }
  })();
  const { page, errors } = await signedInPage();
  await page.goto(`${server.url}/datasets/${chain[5000]}/graph`);
  await page.waitForSelector(".relation-graph[data-state=drawn]", { timeout: 20_000 });
  expect(Number(await page.locator(".relation-graph").getAttribute("data-nodes"))).toBeLessThan(400);
  expect(await page.locator(".graph-status").textContent()).toBe("150 datasets, more are related");
  await page.locator(".graph-tags").uncheck();
  await page.waitForSelector(".relation-graph[data-state=drawn][data-nodes='150']", { timeout: 20_000 });
  await page.locator(".graph-more").click();
  await page.waitForSelector(".relation-graph[data-state=drawn][data-nodes='300']", { timeout: 20_000 });
  await screenshot(page, "relation-network-big");
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);
