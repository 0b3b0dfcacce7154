// The first hour with Mata in Chromium: download a file from the dataset page, page through many files, the
// signed-out header, and every edit of the dataset page (and the jobs page) as a plain form with JavaScript off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createApp } from "../../src/app.ts";
import { getTagTree, replaceTags } from "../../src/tags/tags.service.ts";
import { launchBrowser, screenshot, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser, type TestUser } from "../support/auth.ts";

const ctx = testContext();
let browser: Browser;
let server: { url: string; stop: () => void };
const owner = withUser(ctx, "ma_fh_owner");
const other = withUser(ctx, "ma_fh_other");
const friend = withUser(ctx, "ma_fh_friend");
const admin = withUser(ctx, "ma_fh_admin", { admin: true });
const ids: Record<string, number> = {};
const CONTENT = "0123456789abcdefghijklmnopqrstuvwxyz";

beforeAll(async () => {
  ids.scan = putDataset(ctx, "scan", { "a.txt": CONTENT, "sub/b c.raw": "raw bytes" }, { owner: owner.name, title: "Scan" });
  ids.parent = putDataset(ctx, "parent-scan", { "p.txt": "p" }, { owner: owner.name, title: "Parent scan" });
  ids.big = putDataset(ctx, "big", {}, { owner: owner.name });
  const insert = ctx.db.query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, 1, 0, ?, 0)");
  ctx.db.transaction(() => {
    for (let i = 0; i < 250; i++) insert.run(ids.big!, `f${String(i).padStart(5, "0")}.bin`, i);
  })();
  ctx.db.query("UPDATE datasets SET file_count = 250, byte_count = 250 WHERE id = ?").run(ids.big!);
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx.cleanup();
});

/** A browser context signed in as `who` (or signed out), with JavaScript on or off. */
async function contextFor(who: TestUser | null, javaScriptEnabled = true): Promise<BrowserContext> {
  const c = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled, acceptDownloads: true });
  if (who) await c.addCookies([{ name: who.cookie.split("=")[0]!, value: who.cookie.slice(who.cookie.indexOf("=") + 1), url: server.url }]);
  return c;
}

async function open(c: BrowserContext, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await c.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + path);
  return { page, errors };
}

const headerLinks = (page: Page) => page.locator("header.top a").allInnerTexts();

describe("the header", () => {
  test("signed out it offers only the brand and a sign-in link; signed in, the navigation and search", async () => {
    const out = await contextFor(null);
    const { page } = await open(out, "/login");
    expect(await headerLinks(page)).toEqual(["Mata", "Sign in"]);
    expect(await page.locator("header.top input[type=search]").count()).toBe(0);
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL(/\/login/);
    // A page that needs an account sends a signed-out browser to the sign-in page, whose header is the same.
    await page.goto(`${server.url}/datasets/${ids.scan}`);
    await page.waitForURL(/\/login/);
    expect(await headerLinks(page)).toEqual(["Mata", "Sign in"]);
    await screenshot(page, "first-hour-signed-out");
    await out.close();

    const signedIn = await contextFor(other);
    const p = await open(signedIn, "/datasets");
    expect(await headerLinks(p.page)).toEqual(["Mata", "Datasets", "Tags", "Audit", other.name]);
    expect(await p.page.locator("header.top input[type=search]").count()).toBe(1);
    // An error page keeps the signed-in header.
    await p.page.goto(`${server.url}/datasets/999999`);
    expect(await headerLinks(p.page)).toEqual(["Mata", "Datasets", "Tags", "Audit", other.name]);
    await signedIn.close();
  }, 30_000);
});

describe("the files of a dataset", () => {
  test("a reader clicks a file and the download starts; its link answers a Range request with 206 and the bytes", async () => {
    const c = await contextFor(owner);
    const { page, errors } = await open(c, `/datasets/${ids.scan}`);
    const link = page.getByRole("link", { name: "a.txt", exact: true });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.url()).toBe(`${server.url}/api/v1/datasets/${ids.scan}/files/a.txt?download`);
    expect(download.suggestedFilename()).toBe("a.txt");
    expect(await Bun.file((await download.path())!).text()).toBe(CONTENT);

    // The same URL, as the browser fetched it: an attachment, and a Range answered with just those bytes.
    const href = (await link.getAttribute("href"))!;
    const whole = await page.request.get(server.url + href);
    expect(whole.status()).toBe(200);
    expect(whole.headers()["content-disposition"]).toMatch(/^attachment;.*a\.txt/);
    const part = await page.request.get(server.url + href, { headers: { Range: "bytes=10-15" } });
    expect(part.status()).toBe(206);
    expect(part.headers()["content-range"]).toBe(`bytes 10-15/${CONTENT.length}`);
    expect(await part.text()).toBe("abcdef");
    // A path with a folder and a space is encoded segment by segment.
    const spaced = await page.getByRole("link", { name: "sub/b c.raw" }).getAttribute("href");
    expect(spaced).toBe(`/api/v1/datasets/${ids.scan}/files/sub/b%20c.raw?download`);
    expect(await (await page.request.get(server.url + spaced!)).text()).toBe("raw bytes");
    expect(errors).toEqual([]);
    await c.close();
  }, 30_000);

  test("someone who may list but not read sees plain names", async () => {
    const c = await contextFor(other);
    const { page } = await open(c, `/datasets/${ids.scan}`);
    expect(await page.locator("table.files td.path").allInnerTexts()).toEqual(["a.txt", "sub/b c.raw"]);
    expect(await page.locator("table.files a").count()).toBe(0);
    await c.close();
  }, 30_000);

  test("250 files: 100 a page by path, next to the end and back to the start", async () => {
    const c = await contextFor(owner);
    const { page, errors } = await open(c, `/datasets/${ids.big}`);
    const names = () => page.locator("table.files td.path").allInnerTexts();
    const first = await names();
    expect(first).toHaveLength(100);
    expect([first[0], first[99]]).toEqual(["f00000.bin", "f00099.bin"]);
    expect(await page.getByRole("link", { name: "← Previous files" }).count()).toBe(0);
    await page.getByRole("link", { name: "Next files →" }).click();
    await page.waitForURL(/after=f00099\.bin/);
    expect((await names())[0]).toBe("f00100.bin");
    await page.getByRole("link", { name: "Next files →" }).click();
    await page.waitForURL(/after=f00199\.bin/);
    const last = await names();
    expect([last.length, last[0], last[49]]).toEqual([50, "f00200.bin", "f00249.bin"]);
    expect(await page.getByRole("link", { name: "Next files →" }).count()).toBe(0);
    await page.getByRole("link", { name: "← Previous files" }).click();
    await page.waitForURL(/before=f00200\.bin/);
    expect(await names()).toEqual(Array.from({ length: 100 }, (_, i) => `f${String(100 + i).padStart(5, "0")}.bin`));
    await page.getByRole("link", { name: "← Previous files" }).click();
    expect(await names()).toEqual(first);
    expect(await page.getByRole("link", { name: "← Previous files" }).count()).toBe(0);
    await screenshot(page, "first-hour-file-pages");
    expect(errors).toEqual([]);
    await c.close();
  }, 30_000);
});

describe("without JavaScript every edit is a plain form post", () => {
  test("title, a tag (added, edited, a refusal, deleted), a parent and a share, each applied after the redirect", async () => {
    const c = await contextFor(owner, false);
    const { page } = await open(c, `/datasets/${ids.scan}`);
    const back = () => page.waitForURL((u) => u.pathname === `/datasets/${ids.scan}`);
    const flash = () => page.locator(".page-flash").innerText();

    // Title and description: the link that stands in for the htmx button opens the editor.
    await page.getByRole("link", { name: "Edit title and description" }).click();
    await page.fill("form#describe input[name=title]", "Sheep femur, no JavaScript");
    await page.fill("form#describe textarea[name=description]", "Saved by a plain form.");
    await page.locator("form#describe button[type=submit]").click();
    await back();
    expect(await flash()).toBe("Saved the title and description.");
    expect(await page.locator(".dataset-title").innerText()).toBe("Sheep femur, no JavaScript");

    // Add a tag, then change its value through the Edit link.
    await page.fill("#add-key", "Species");
    await page.fill("#add-value", "sheep");
    await page.getByRole("button", { name: "Add tag" }).click();
    await back();
    expect(await flash()).toBe("Added “Species”.");
    await page.getByRole("link", { name: "Edit Species = sheep" }).click();
    await page.fill("#edit-key", "Species");
    await page.fill("#edit-value", "Ovis aries");
    await page.locator("form.tag-edit button[type=submit]").click();
    await back();
    expect(getTagTree(ctx.db, ids.scan!)).toEqual([{ key: "Species", value: "Ovis aries", children: [] }]);

    // A refusal is shown on the page, in the panel, with what was typed.
    replaceTags(ctx, owner.name, ids.scan!, [{ key: "Species", value: "Ovis aries", children: [] }]); // someone else saves meanwhile
    await page.fill("#add-key", "Organ");
    await page.fill("#add-value", "femur");
    const refused = page.waitForResponse((r) => r.request().method() === "POST");
    await page.getByRole("button", { name: "Add tag" }).click();
    expect((await refused).status()).toBe(409);
    expect(await page.locator("#tags-panel .error").innerText()).toContain("Someone else changed these tags");
    expect(await page.locator("#add-key").inputValue()).toBe("Organ");
    await screenshot(page, "first-hour-nojs-refusal");

    // Delete the tag with its row's form.
    await page.goto(`${server.url}/datasets/${ids.scan}`);
    await page.getByRole("button", { name: "Delete Species = Ovis aries" }).click();
    await back();
    expect(await flash()).toBe("Deleted the tag.");
    expect(getTagTree(ctx.db, ids.scan!)).toEqual([]);

    // A parent, named by its path (no pick list without JavaScript).
    await page.fill("#parent-search", "parent-scan");
    await page.getByRole("button", { name: "Add parent" }).click();
    await back();
    expect(await flash()).toBe("Added parent “Parent scan”.");
    expect(await page.locator("#relations-panel .relatives").first().innerText()).toContain("Parent scan");

    // Share with someone: the sharing panel is on the page without htmx to load it.
    await page.fill('#sharing input[name="name"]', friend.name);
    await page.selectOption('#sharing select[name="role"]', "editor");
    await page.getByRole("button", { name: "Share" }).click();
    await back();
    expect(await flash()).toBe(`Shared with ${friend.name}.`);
    expect(await page.locator("#sharing .grants").innerText()).toContain(friend.name);
    const access = await (await fetch(`${server.url}/api/v1/datasets/${ids.scan}/access`, { headers: friend.headers })).json();
    expect(access).toMatchObject({ role: "editor", editors: [friend.name] });
    await screenshot(page, "first-hour-nojs-dataset");
    await c.close();
  }, 60_000);

  test("an admin cancels a job on the jobs page", async () => {
    const job = Number(
      ctx.db
        .query(
          "INSERT INTO jobs (kind, dataset_id, generation, state, created_at) VALUES ('preview', ?1, (SELECT generation FROM datasets WHERE id = ?1), 'queued', ?2)",
        )
        .run(ids.big!, Date.now()).lastInsertRowid,
    );
    const c = await contextFor(admin, false);
    const { page } = await open(c, "/jobs");
    await page.getByRole("button", { name: `Cancel job ${job}` }).click();
    await page.waitForURL((u) => u.pathname === "/jobs");
    expect(await page.locator(".page-flash").innerText()).toBe(`Job ${job} cancelled.`);
    expect(await page.locator(`tr[data-job="${job}"]`).getAttribute("data-state")).toBe("cancelled");
    // Retrying it is a plain post too.
    await page.getByRole("button", { name: `Retry job ${job}` }).click();
    await page.waitForURL((u) => u.pathname === "/jobs");
    expect(await page.locator(".page-flash").innerText()).toBe(`Job ${job} queued again.`);
    expect(await page.locator(`tr[data-job="${job}"]`).getAttribute("data-state")).toBe("queued");
    await c.close();
  }, 30_000);
});
