import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../../src/app.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { getTagTree, replaceTags } from "../../src/tags/tags.service.ts";
import { describeDataset } from "../../src/datasets/describe.service.ts";
import { launchBrowser, newPage, screenshot, serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { addDataset, addFile, signIn } from "./support.ts";

const t = (key: string, value = "", children: TagNode[] = []): TagNode => ({ key, value, children });

let browser: Browser;
let server: { url: string; stop: () => void };
let ctx: ReturnType<typeof testContext>;
let cookie: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ctx = testContext();
  ids.ct = addDataset(ctx, { path: "ct-0001", title: "Sheep femur CT", owner: "alice", files: 2, bytes: 8_400_000_000 });
  addFile(ctx, ids.ct, "femur.vgi", 4_000, Date.UTC(2026, 10, 2, 8, 0));
  addFile(ctx, ids.ct, "femur.vol", 8_399_996_000, Date.UTC(2026, 10, 2, 8, 12));
  ids.other = addDataset(ctx, { path: "mri-0002", title: "Sheep knee MRI", owner: "bob" });
  ids.third = addDataset(ctx, { path: "zebrafish-0003", title: "Zebrafish <em>larva</em>", owner: "carol" });
  ids.seg = addDataset(ctx, { path: "seg-0004", owner: "alice", files: 2, bytes: 52_000 });
  addFile(ctx, ids.seg, "labels/femur.nii.gz", 51_000, Date.UTC(2026, 10, 20, 9, 30));
  addFile(ctx, ids.seg, "README.txt", 1000, Date.UTC(2026, 10, 21, 14, 5));
  replaceTags(ctx, "alice", ids.ct, [t("Patient", "", [t("Species", "sheep"), t("Age", "3 years")]), t("Modality", "micro-CT"), t("Scanner", "Skyscan 1276")]);
  replaceTags(ctx, "bob", ids.other, [t("Species", "sheep"), t("Modality", "MRI"), t("Specimen", "knee")]);
  replaceTags(ctx, "carol", ids.third, [t("Species", "zebrafish"), t("Spacing", "0.5 mm")]);
  cookie = signIn(ctx).cookie;
  server = serveApp(createApp(ctx));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
  ctx?.cleanup();
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const p = await newPage(browser);
  await p.page.context().addCookies([{ name: "mata_session", value: cookie, url: server.url }]);
  await p.page.goto(server.url + path);
  return p;
}

/** Waits until htmx has put the keyboard focus back (autofocus after a swap) on the control with this accessible name. */
const focusedOn = (page: Page, name: string) =>
  page.waitForFunction((n) => {
    const el = document.activeElement;
    return !!el && (el.getAttribute("aria-label") === n || el.textContent?.trim() === n || el.id === n);
  }, name);

const rows = (page: Page) =>
  page.$$eval("#tags-panel li.tag", (lis) =>
    lis.map((li) => `${"  ".repeat((li.getAttribute("data-path") ?? "").split(".").length - 1)}${li.getAttribute("data-key")}`),
  );

describe("metadata pages in Chromium, keyboard only", () => {
  test("dataset list: sortable, escaped, links to the dataset", async () => {
    const { page, errors } = await open("/");
    await page.waitForSelector("table tbody tr");
    expect(await page.locator("tbody tr").count()).toBe(4);
    expect(await page.locator("text=Zebrafish <em>larva</em>").count()).toBe(1);
    await page.getByRole("link", { name: "Size" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/sort=size/);
    expect(await page.locator("tbody tr td:nth-child(2)").first().innerText()).not.toBe("Sheep femur CT");
    await screenshot(page, "metadata-list");
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  test("describe a dataset from scratch, nest and reorder tags, pick ranked suggestions, did-you-mean, delete a subtree", async () => {
    const { page, errors } = await open(`/datasets/${ids.seg}`);
    await page.waitForSelector("#describe");
    expect(await page.locator("#preview").innerText()).toContain("No preview");
    await screenshot(page, "metadata-dataset-empty");

    // Title and description, by keyboard.
    await page.getByRole("button", { name: "Edit title and description" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("form#describe input[name=title]:focus");
    await page.keyboard.type("Femur segmentation <script>alert(1)</script>");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Labels of the cortical bone.");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#describe .notice");
    await focusedOn(page, "Edit title and description");
    expect(await page.locator(".dataset-title").innerText()).toBe("Femur segmentation <script>alert(1)</script>");

    // A ranked key suggestion: "Species" (3 datasets) before "Specimen" and "Spacing" (typo-near).
    const key = page.locator("#add-key");
    await key.focus();
    await page.keyboard.type("Spe");
    await page.waitForSelector('#add-key-list[data-for="Spe"] li');
    const options = await page.locator("#add-key-list li span:first-child").allInnerTexts();
    expect(options[0]).toBe("Species");
    expect(options).toEqual(["Species", "Specimen", "Spacing"]);
    expect(await page.locator("#add-key-list li .n").allInnerTexts()).toEqual(["3 datasets", "1 dataset", "similar · 1 dataset"]);
    await screenshot(page, "metadata-suggest-key");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    expect(await key.inputValue()).toBe("Species");
    await page.keyboard.press("Tab");
    await page.keyboard.type("sh");
    await page.waitForSelector('#add-value-list[data-for="sh"] li');
    expect(await page.locator("#add-value-list li span:first-child").first().innerText()).toBe("sheep");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    await page.waitForSelector('#tags-panel li.tag[data-key="Species"]');

    const add = async (k: string, v: string) => {
      await page.waitForSelector("#add-key:focus");
      await page.keyboard.type(k);
      await page.keyboard.press("Escape");
      await page.keyboard.press("Tab");
      await page.keyboard.type(v);
      await page.keyboard.press("Escape");
      await page.keyboard.press("Enter");
      await page.waitForSelector(`#tags-panel li.tag[data-key="${k}"]`);
      // htmx moves the focus back to the key field when the swap settles; wait for it, or it lands after the next step.
      await page.waitForSelector("#add-key:focus");
    };
    await add("Imaging", "");
    await add("Projections", "3142");
    await add("Exposure", "300 ms");
    expect(await rows(page)).toEqual(["Species", "Imaging", "Projections", "Exposure"]);

    // Nest "Projections" and "Exposure" under "Imaging" (→), then move "Exposure" up (↑), then "Imaging" above "Species".
    await page.getByRole("button", { name: "Nest Projections = 3142 under the tag above" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-path="1.0"][data-key="Projections"]');
    await focusedOn(page, "Edit Projections = 3142"); // its "nest" button is disabled now
    await page.getByRole("button", { name: "Nest Exposure = 300 ms under the tag above" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-path="1.1"][data-key="Exposure"]');
    // The focus follows the moved tag, so the next key press acts on it again.
    await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Nest Exposure = 300 ms under the tag above");
    await page.getByRole("button", { name: "Move Exposure = 300 ms up" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-path="1.0"][data-key="Exposure"]');
    await focusedOn(page, "Edit Exposure = 300 ms");
    await page.getByRole("button", { name: "Move Imaging up" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-path="0"][data-key="Imaging"]');
    await focusedOn(page, "Edit Imaging");
    expect(await rows(page)).toEqual(["Imaging", "  Exposure", "  Projections", "Species"]);

    // A near-duplicate of a common key gets "did you mean".
    await page.locator("#add-key").focus();
    await page.keyboard.type("Modalty");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    await page.keyboard.type("segmentation");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".did-you-mean");
    expect(await page.locator(".did-you-mean").innerText()).toContain("Did you mean “Modality”, used by 2 datasets?");
    await screenshot(page, "metadata-did-you-mean");
    await focusedOn(page, "Use “Modality”");
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-key="Modality"]');
    await focusedOn(page, "add-key");

    // Edit in place: move "Species" under "Imaging" with the edit form's "Place under".
    await page.getByRole("button", { name: "Edit Species = sheep" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#edit-key:focus");
    await page.selectOption("form.tag-edit select[name=to]", { label: "Imaging" });
    await page.locator("form.tag-edit button[type=submit]").focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-path="0.2"][data-key="Species"]');
    await focusedOn(page, "Edit Species = sheep");
    await screenshot(page, "metadata-tags-nested");

    // Delete a subtree, after confirming.
    page.once("dialog", (d) => d.accept());
    await page.getByRole("button", { name: /^Delete Imaging and the 3 tags under it$/ }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('li.tag[data-key="Imaging"]', { state: "detached" });
    expect(await rows(page)).toEqual(["Modality"]);

    // Visible on reload; the title text stayed text.
    await page.reload();
    expect(await rows(page)).toEqual(["Modality"]);
    expect(await page.locator(".dataset-title").innerText()).toBe("Femur segmentation <script>alert(1)</script>");
    expect(getTagTree(ctx.db, ids.seg!)).toEqual([t("Modality", "segmentation")]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test("pick a parent by typing, import its tags, then a cycle is refused with its path", async () => {
    // The state the previous test leaves, set here too so this test stands on its own.
    describeDataset(ctx, "alice", ids.seg!, { title: "Femur segmentation <script>alert(1)</script>" });
    replaceTags(ctx, "alice", ids.seg!, [t("Modality", "segmentation")]);
    const { page, errors } = await open(`/datasets/${ids.seg}`);
    await page.locator("#parent-search").focus();
    await page.keyboard.type("Sheep fe");
    await page.waitForSelector('#parent-search-list[data-for="Sheep fe"] li');
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#relations-panel .notice");
    await focusedOn(page, "parent-search");
    expect(await page.locator("#relations-panel .relatives").first().innerText()).toContain("Sheep femur CT");

    await page.getByRole("button", { name: "Import tags from parents" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector(".import-report");
    const report = await page.locator(".import-report").innerText();
    expect(report).toContain("Imported 2 tags from the parents");
    expect(report).toContain("Patient (with 2 tags under it) from Sheep femur CT");
    expect(report).toContain("Left alone (key already set): Modality (Sheep femur CT)");
    expect(await rows(page)).toEqual(["Modality", "Patient", "  Species", "  Age", "Scanner"]);
    await screenshot(page, "metadata-imported");
    await page.close();

    // On the parent, naming the child as its parent would close a cycle.
    const p2 = await open(`/datasets/${ids.ct}`);
    expect(await p2.page.locator("#relations-panel").innerText()).toContain("Femur segmentation");
    await p2.page.locator("#parent-search").focus();
    await p2.page.keyboard.type("Femur seg");
    await p2.page.waitForSelector('#parent-search-list[data-for="Femur seg"] li');
    await p2.page.keyboard.press("ArrowDown");
    await p2.page.keyboard.press("Enter");
    await p2.page.waitForSelector("#relations-panel .error");
    expect(await p2.page.locator("#relations-panel .error").innerText()).toBe(
      'Refused: that would make a cycle, since "Femur segmentation <script>alert(1)</script>" (seg-0004) is derived from this dataset: "Sheep femur CT" (ct-0001) → "Femur segmentation <script>alert(1)</script>" (seg-0004) → "Sheep femur CT" (ct-0001)',
    );
    await screenshot(p2.page, "metadata-cycle-refused");
    expect([...errors, ...p2.errors]).toEqual([]);
    await p2.page.close();
  }, 60_000);

  test("two people edit the title at once: the second sees 409 with the current values and keeps their text", async () => {
    const a = await open(`/datasets/${ids.other}`);
    const b = await open(`/datasets/${ids.other}`);
    for (const p of [a.page, b.page]) {
      await p.getByRole("button", { name: "Edit title and description" }).click();
      await p.waitForSelector("form#describe input[name=title]");
    }
    await a.page.fill("form#describe input[name=title]", "Knee MRI, left");
    await a.page.locator("form#describe button[type=submit]").click();
    await a.page.waitForSelector("#describe .notice");
    await b.page.fill("form#describe input[name=title]", "Knee MRI (B's title)");
    await b.page.locator("form#describe button[type=submit]").click();
    await b.page.waitForSelector("form#describe .error");
    const msg = await b.page.locator("form#describe .error").innerText();
    expect(msg).toContain('title is now "Knee MRI, left"');
    expect(await b.page.locator("form#describe input[name=title]").inputValue()).toBe("Knee MRI (B's title)");
    await screenshot(b.page, "metadata-describe-conflict");
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.page.close();
    await b.page.close();
  }, 30_000);
});
