// The sign-in flow and htmx CSRF in a real browser (headless Chromium).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { configureAuth } from "../../src/auth/auth.runtime.ts";
import { hashPassword } from "../../src/auth/password.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";

// Real password hashing and a real browser: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

let browser: Browser;
let ctx: ReturnType<typeof testContext>;
let server: { url: string; stop: () => void };

beforeAll(async () => {
  ctx = testContext();
  configureAuth(ctx, { failureFloorMs: 30 });
  accountsRepo(ctx.db).add("ann", await hashPassword("ann-secret-1"), false, Date.now());
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx?.cleanup();
});

describe("in a browser", () => {
  test("a page sends the visitor to the login form and back; htmx requests carry the CSRF token", async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`${server.url}/account`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await screenshot(page, "auth-login");
    await page.fill('input[name="name"]', "ann");
    await page.fill('input[name="password"]', "wrong");
    await page.click('button[type="submit"]');
    await page.waitForSelector(".error");
    expect(await page.textContent(".error")).toContain("Wrong account name or password");
    await page.fill('input[name="password"]', "ann-secret-1");
    await page.click('button[type="submit"]');
    await page.waitForSelector("h1:has-text('Account ann')");
    expect(new URL(page.url()).pathname).toBe("/account");
    // The cookie is out of reach of scripts.
    expect(await page.evaluate(() => document.cookie)).not.toContain("mata_session");
    const cookie = (await page.context().cookies()).find((c) => c.name === "mata_session")!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");

    // An htmx POST: static/app.js adds X-CSRF-Token from <meta name="csrf-token">.
    const status = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          document.body.addEventListener("htmx:afterRequest", (e) => resolve((e as CustomEvent).detail.xhr.status), { once: true });
          (window as unknown as { htmx: { ajax: (m: string, u: string, o: object) => void } }).htmx.ajax("POST", "/account/tokens", {
            values: { label: "from htmx" },
            target: "#main",
            swap: "innerHTML",
          });
        }),
    );
    expect(status).toBe(200);
    await page.waitForSelector("#new-token");
    // Without the meta tag (a page that forgot it), the same request is refused.
    const refused = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          document.querySelector('meta[name="csrf-token"]')?.remove();
          document.body.addEventListener("htmx:afterRequest", (e) => resolve((e as CustomEvent).detail.xhr.status), { once: true });
          (window as unknown as { htmx: { ajax: (m: string, u: string, o: object) => void } }).htmx.ajax("POST", "/account/tokens", {
            values: { label: "no token" },
            target: "#main",
            swap: "innerHTML",
          });
        }),
    );
    expect(refused).toBe(403);

    // Sign out, and the account page is closed again.
    await page.goto(`${server.url}/account`);
    await screenshot(page, "auth-account");
    await page.click('form[action="/logout"] button');
    await page.waitForSelector('form[action="/login"]');
    await page.goto(`${server.url}/account`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(errors).toEqual([]);
  });
});
