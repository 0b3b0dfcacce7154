// The sharing panel in a real browser: htmx loads it, the owner adds a person with the picker and
// removes them again, and the grant holds on the API at once (CSRF header from the page's meta tag).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import type { Browser } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { Layout } from "../../templates/layout.tsx";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";

const ctx = testContext();
let browser: Browser;
let server: { url: string; stop: () => void };
let id = 0;
const owner = withUser(ctx, "ma_panel_owner");
const friend = withUser(ctx, "ma_panel_friend");

beforeAll(async () => {
  id = putDataset(ctx, "panel", { "a.txt": "a" }, { owner: owner.name });
  // A host page standing in for the dataset page: the panel is one htmx partial it includes.
  const host = new Hono();
  host.get("/host", (c) =>
    c.html(
      <Layout title="Sharing host" csrf={owner.csrf} user={{ name: owner.name, isAdmin: false }}>
        <div hx-get={`/datasets/${id}/sharing`} hx-trigger="load" hx-swap="outerHTML"></div>
      </Layout>,
    ),
  );
  host.route("/", createApp(ctx));
  server = serveApp(host);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx.cleanup();
});

test("the owner shares with a picked user and takes it back", async () => {
  const { page, errors } = await newPage(browser);
  await page.context().addCookies([{ name: owner.cookie.split("=")[0]!, value: owner.cookie.slice(owner.cookie.indexOf("=") + 1), url: server.url }]);
  await page.goto(`${server.url}/host`);
  await page.waitForSelector("#sharing form.grant-add");
  expect(await page.textContent("#sharing")).toContain("Not shared with anyone yet");
  // The picker offers the accounts Mata knows.
  expect(await page.locator('#sharing-people option[value="ma_panel_friend"]').count()).toBe(1);
  await page.fill('#sharing input[name="name"]', friend.name);
  await page.selectOption('#sharing select[name="role"]', "editor");
  await page.click('#sharing form.grant-add button[type="submit"]');
  await page.waitForSelector("#sharing .notice");
  expect(await page.textContent("#sharing .grants")).toContain("view and edit");
  const access = await (await fetch(`${server.url}/api/v1/datasets/${id}/access`, { headers: friend.headers })).json();
  expect(access).toMatchObject({ role: "editor", editors: [friend.name] });
  await screenshot(page, "access-sharing-panel");
  await page.click(`#sharing button[aria-label="Remove ${friend.name}"]`);
  await page.waitForFunction(() => document.querySelector("#sharing .notice")?.textContent?.includes("no longer has access"));
  expect((await fetch(`${server.url}/api/v1/datasets/${id}/files/a.txt`, { headers: friend.headers })).status).toBe(403);
  expect(errors).toEqual([]);
});

test("someone without access sees who to ask, and no form", async () => {
  const { page, errors } = await newPage(browser);
  await page.context().addCookies([{ name: friend.cookie.split("=")[0]!, value: friend.cookie.slice(friend.cookie.indexOf("=") + 1), url: server.url }]);
  await page.goto(`${server.url}/host`);
  await page.waitForSelector("#sharing");
  expect(await page.textContent("#sharing")).toContain(`Ask ${owner.name} for access`);
  expect(await page.locator("#sharing form").count()).toBe(0);
  expect(errors).toEqual([]);
});
