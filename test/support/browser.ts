import { chromium, type Browser, type Page } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Fetch } from "../../src/preview/tile.fast-path.ts";
import type { Hono } from "hono";

const CHROMIUM = "/usr/bin/chromium";

/** One headless Debian Chromium for a test file; fails (never skips) when Chromium is missing. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      "--font-render-hinting=none",
      "--hide-scrollbars",
    ],
  });
}

/** Serves a Hono app (or what `mata serve` serves, `{ fetch: createFetch(ctx) }`) on a free loopback port for the browser; stop() closes it. */
export function serveApp(app: Hono<any> | { fetch: Fetch }): { url: string; stop: () => void } {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req, srv) => app.fetch(req, srv) });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** A new page that records uncaught page errors, so a test can assert there were none. */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors };
}

/** Saves a screenshot under test-artifacts/ (kept by CI and looked at by people). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.resolve(import.meta.dir, "../../test-artifacts/screenshots");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
