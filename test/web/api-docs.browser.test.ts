// /api/docs: the embedded Swagger UI renders the generated document, and "Try it out" runs as the signed-in
// browser, CSRF token included, so a state-changing call works from the page.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { putDataset } from "../support/fixtures.ts";

let browser: Browser;
let server: { url: string; stop: () => void };
const ctx = testContext();
let cookie = "";
let id = 0;

beforeAll(async () => {
  id = putDataset(ctx, "ct-scan", { "a.txt": "x" }, { owner: "alice", title: "CT scan" });
  const user = withUser(ctx, "alice");
  cookie = user.cookie.slice(user.cookie.indexOf("=") + 1);
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx.cleanup();
});

test("the API page lists every group of routes and a PATCH from it is applied", async () => {
  const { page, errors } = await newPage(browser);
  await page.context().addCookies([{ name: "mata_session", value: cookie, url: server.url }]);
  await page.goto(`${server.url}/api/docs`);
  await page.waitForSelector(".opblock-tag", { timeout: 20_000 });
  const groups = await page.$$eval(".opblock-tag", (els) => els.map((e) => e.getAttribute("data-tag")));
  expect(groups).toEqual(expect.arrayContaining(["datasets", "tags", "search", "access", "previews", "jobs", "tokens"]));

  // Open PATCH /api/v1/datasets/{id}, try it out with a new title.
  await page.click("#operations-datasets-patch_api_v1_datasets__id_ .opblock-summary");
  const op = page.locator("#operations-datasets-patch_api_v1_datasets__id_");
  await op.locator("button.try-out__btn").click();
  await op.locator('input[placeholder="id"]').fill(String(id));
  await op.locator("textarea.body-param__text").fill(JSON.stringify({ title: "Renamed from the API page" }));
  await op.locator("button.execute").click();
  const status = op.locator(".live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 10_000 });
  await screenshot(page, "api-docs");
  expect(await status.textContent()).toContain("200");
  const title = ctx.db.query<{ title: string }, [number]>("SELECT title FROM datasets WHERE id = ?").get(id)!.title;
  expect(title).toBe("Renamed from the API page");
  expect(errors).toEqual([]);
}, 60_000);
