import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { createFetch } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
let browser: Browser;
let server: { url: string; stop: () => void };
let stopJobs: () => Promise<void>;
let id = 0;
let imageId = 0;

// A ball in a ramp: every orientation shows a different picture, none of them blank.
const ball = (x: number, y: number, z: number) => {
  const d = Math.hypot(x - 300, y - 250, (z - 150) * 2);
  return (d < 140 ? 3000 : 500) + x * 2 + y + z * 3;
};

beforeAll(async () => {
  id = addDataset(ctx, "ball");
  writeMetaImage(path.join(ctx.config.root, "ball"), "vol", [600, 500, 300], ball);
  imageId = addDataset(ctx, "photo");
  await Bun.write(
    path.join(ctx.config.root, "photo", "scan.png"),
    await (
      await import("sharp")
    )
      .default(Buffer.from(Array.from({ length: 400 * 300 }, (_, i) => (i % 400) ^ Math.floor(i / 400))), { raw: { width: 400, height: 300, channels: 1 } })
      .png()
      .toBuffer(),
  );
  stopJobs = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, id);
  commitChange(ctx, imageId);
  await waitFor("previews ready", () => previewSummary(ctx, id).state === "ready" && previewSummary(ctx, imageId).state === "ready", 120_000);
  browser = await launchBrowser();
  server = serveApp({ fetch: createFetch(ctx) });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.stop();
  await stopJobs?.();
  ctx.cleanup();
});

async function signedInPage() {
  const user = withUser(ctx, "root", { admin: true });
  const { page, errors } = await newPage(browser);
  const [name, value] = user.cookie.split("=") as [string, string];
  await page.context().addCookies([{ name, value, url: server.url }]);
  return { page, errors };
}

/** How many pixels of each pane are not near black, and a fingerprint of the pixels. */
const paneStats = `(() => Array.from(document.querySelectorAll(".viewer-canvas")).map((c) => {
  const g = c.getContext("2d");
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let lit = 0, sum = 0;
  for (let i = 0; i < d.length; i += 4) { if (d[i] > 20) lit++; sum = (sum * 31 + d[i]) >>> 0; }
  return { lit: lit / (d.length / 4), sum };
}))()`;

/**
 * Polls an expression in the page until it is true. The page's CSP forbids evaluating strings in it (as
 * waitForFunction with a string does); page.evaluate goes through the debugging protocol instead.
 */
async function until(page: Page, expr: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expr))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expr.slice(0, 120)}`);
    await Bun.sleep(50);
  }
}

describe("slice viewer in Chromium", () => {
  test("three synchronized panes are drawn; scrolling, keys and zoom change them; about 20 tiles a view", async () => {
    const { page, errors } = await signedInPage();
    await page.goto(`${server.url}/datasets/${id}/viewer`);
    await page.waitForSelector('.mata-viewer[data-state="ready"]', { timeout: 15_000 });
    await until(page, `${paneStats}.every((p) => p.lit > 0.08)`, 15_000);
    const panes = await page.$$eval(".viewer-pane", (els) => els.map((e) => e.getAttribute("data-pane")));
    expect(panes).toEqual(["XY", "XZ", "YZ"]);
    const requests = Number(await page.getAttribute(".mata-viewer", "data-requests"));
    expect(requests).toBeGreaterThan(2);
    expect(requests).toBeLessThanOrEqual(24);
    const before = (await page.evaluate(paneStats)) as { lit: number; sum: number }[];
    expect(await page.getAttribute(".mata-viewer", "data-cursor")).toBe("300,250,150");

    // Scroll the XY pane through 40 slices: the XY picture changes, the cursor follows.
    const xy = page.locator('.viewer-pane[data-pane="XY"] canvas');
    const box = (await xy.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 100);
    await until(page, `document.querySelector(".mata-viewer").getAttribute("data-cursor") === "300,250,190"`, 5000);
    await until(page, `${paneStats}[0].sum !== ${before[0]!.sum} && ${paneStats}[0].lit > 0.08`, 10_000);

    // A click in the XZ pane moves the cursor in x and z; the YZ pane follows (a different slice).
    const xz = page.locator('.viewer-pane[data-pane="XZ"] canvas');
    const xzBox = (await xz.boundingBox())!;
    const yzBefore = ((await page.evaluate(paneStats)) as { sum: number }[])[2]!.sum;
    await page.mouse.click(xzBox.x + xzBox.width * 0.3, xzBox.y + xzBox.height * 0.5);
    await until(page, `${paneStats}[2].sum !== ${yzBefore}`, 10_000);
    const cursor = (await page.getAttribute(".mata-viewer", "data-cursor"))!.split(",").map(Number);
    expect(cursor[0]).toBeLessThan(300);
    expect(cursor[1]).toBe(250);

    // Keyboard: ArrowDown steps the active pane's slice; "1" zooms to full resolution (level 0 everywhere).
    await page.focus(".mata-viewer");
    const z0 = cursor[1]!;
    await page.keyboard.press("ArrowDown");
    await until(page, `document.querySelector(".mata-viewer").getAttribute("data-cursor").split(",")[1] === "${z0 + 1}"`, 5000);
    const levelsBefore = await page.$$eval(".viewer-pane", (els) => els.map((e) => e.getAttribute("data-level")));
    expect(levelsBefore.some((l) => l !== "0")).toBe(true);
    const reqBefore = Number(await page.getAttribute(".mata-viewer", "data-requests"));
    await page.keyboard.press("1");
    await until(page, `Array.from(document.querySelectorAll(".viewer-pane")).every((e) => e.getAttribute("data-level") === "0")`, 5000);
    await until(page, `${paneStats}.every((p) => p.lit > 0.08)`, 15_000);
    expect(Number(await page.getAttribute(".mata-viewer", "data-requests")) - reqBefore).toBeLessThanOrEqual(30);

    // Brightness is client side: the picture changes with no tile request.
    const reqs = Number(await page.getAttribute(".mata-viewer", "data-requests"));
    const lit = ((await page.evaluate(paneStats)) as { lit: number }[])[0]!.lit;
    await page.locator('input[aria-label="Brightness"]').fill("0.3");
    await until(page, `${paneStats}[0].lit < ${lit}`, 5000);
    expect(Number(await page.getAttribute(".mata-viewer", "data-requests"))).toBe(reqs);
    await screenshot(page, "preview-viewer");
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test("a 2D image is shown in one pane", async () => {
    const { page, errors } = await signedInPage();
    await page.goto(`${server.url}/datasets/${imageId}/viewer`);
    await page.waitForSelector('.mata-viewer[data-state="ready"]', { timeout: 15_000 });
    await until(page, `(() => { const s = ${paneStats}; return s.length === 1 && s[0].lit > 0.08; })()`, 15_000);
    expect(await page.$$eval(".viewer-pane", (els) => els.length)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
