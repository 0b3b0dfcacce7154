import { afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { MAX_DEPTH } from "../../src/tags/tag-limits.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { getTagTree, replaceTags } from "../../src/tags/tags.service.ts";
import { testContext } from "../support/env.ts";
import { addDataset, signIn } from "./support.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const t = (key: string, value = "", children: TagNode[] = []): TagNode => ({ key, value, children });

function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const app = createApp(ctx);
  const { headers } = signIn(ctx);
  const get = async (url: string) => {
    const res = await app.request(url, { headers });
    return { status: res.status, html: await res.text() };
  };
  const post = async (url: string, fields: Record<string, string>, method = "POST") => {
    const res = await app.request(url, {
      method,
      headers: { ...headers, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, html: await res.text() };
  };
  return { ctx, get, post };
}

function titles(html: string): string[] {
  return [...html.matchAll(/<td><a href="\/datasets\/\d+">([^<]*)<\/a><\/td>/g)].map((m) => m[1]!);
}

function link(html: string, rel: "next" | "prev"): string | null {
  const m = html.match(new RegExp(`<a href="([^"]+)" rel="${rel}">`));
  return m ? m[1]!.replace(/&amp;/g, "&") : null;
}

describe("dataset list", () => {
  test("keyset paging walks every dataset once in each sort order, forwards and back", async () => {
    const { ctx, get } = setup();
    const names: string[] = [];
    for (let i = 0; i < 53; i++) {
      const title = `Scan ${String((i * 7) % 53).padStart(2, "0")}`;
      names.push(title);
      // Equal sizes and owners on purpose: ties must be broken by id, never repeated or skipped.
      addDataset(ctx, { path: `d${String(i).padStart(3, "0")}`, title, owner: i % 3 ? "alice" : "bob", bytes: (i % 4) * 1000, files: i % 5 });
    }
    for (const sort of ["title", "path", "owner", "size", "files", "updated"]) {
      for (const order of ["asc", "desc"]) {
        let url: string | null = `/datasets?sort=${sort}&order=${order}&limit=10`;
        const pages: string[][] = [];
        const seen: string[] = [];
        while (url) {
          const r = await get(url);
          expect(r.status).toBe(200);
          pages.push(titles(r.html));
          seen.push(...titles(r.html));
          url = link(r.html, "next");
        }
        expect(seen).toHaveLength(53);
        expect(new Set(seen).size).toBe(53);
        if (sort === "title") expect(seen).toEqual([...names].sort((a, b) => (order === "asc" ? a.localeCompare(b) : b.localeCompare(a))));
        // Back from the last page gives the page before it.
        let back: string | null = `/datasets?sort=${sort}&order=${order}&limit=10`;
        let r = await get(back);
        for (let i = 0; i < pages.length - 1; i++) r = await get(link(r.html, "next")!);
        back = link(r.html, "prev");
        expect(titles((await get(back!)).html)).toEqual(pages[pages.length - 2]!);
      }
    }
    expect((await get("/datasets?after=garbage")).status).toBe(400);
    expect((await get("/datasets?sort=nonsense")).status).toBe(400);
  });

  test("HTML in titles and paths shows as text on the list and the dataset page", async () => {
    const { ctx, get } = setup();
    const id = addDataset(ctx, {
      path: `evil<img src=x onerror=alert(1)>`,
      title: `<script>alert("t")</script>`,
      description: `<b onmouseover=alert(2)>d</b>`,
    });
    replaceTags(ctx, "alice", id, [t(`<i>k</i>`, `<svg onload=alert(3)>`)]);
    for (const url of ["/", `/datasets/${id}`]) {
      const { html } = await get(url);
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img src=x");
      expect(html).not.toContain("<b onmouseover");
      expect(html).not.toContain("<svg onload");
      expect(html).not.toContain("<i>k</i>");
    }
    const page = (await get(`/datasets/${id}`)).html;
    expect(page).toContain("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;");
    expect(page).toContain("&lt;svg onload=alert(3)&gt;");
    expect((await get("/datasets/999")).status).toBe(404);
  });
});

describe("dataset page", () => {
  test("the preview slot tells the truth from the job table", async () => {
    const { ctx, get } = setup();
    const id = addDataset(ctx, { path: "p" });
    const slot = async () => (await get(`/datasets/${id}`)).html.match(/<section id="preview"[^>]*data-preview-state="(\w+)"[^]*?<\/section>/)!;
    expect((await slot())[1]).toBe("none");
    expect((await slot())[0]).toContain("No preview");
    const job = ctx.db.query("INSERT INTO jobs (kind, dataset_id, generation, state, progress, created_at) VALUES ('preview', ?, 1, ?, ?, 0) RETURNING id");
    const j = job.get(id, "running", 0.5) as { id: number };
    expect((await slot())[0]).toContain("Making the preview");
    expect((await slot())[0]).toContain("50%");
    ctx.db.query("UPDATE jobs SET state = 'failed', error = 'broken.tif: not a TIFF' WHERE id = ?").run(j.id);
    expect((await slot())[0]).toContain("Preview failed: broken.tif: not a TIFF");
  });

  test("editor fragments: stale version 409 with the current tree, empty key, huge value, too deep, all shown in the panel", async () => {
    const { ctx, post } = setup();
    const id = addDataset(ctx, { path: "d" });
    replaceTags(ctx, "bob", id, [t("Imaging", "", [t("Projections", "3142")]), t("Species", "sheep")]); // version 2
    // Someone else already changed it: this person's "move up" on version 1 is refused, the tree is unchanged.
    let r = await post(`/datasets/${id}/tags/op`, { op: "up", path: "1", version: "1" });
    expect(r.status).toBe(409);
    expect(r.html).toContain("Someone else changed these tags");
    expect(r.html).toContain('data-key="Projections"');
    expect(getTagTree(ctx.db, id)[0]!.key).toBe("Imaging");
    r = await post(`/datasets/${id}/tags/op`, { op: "up", path: "1", version: "2" });
    expect(r.status).toBe(200);
    expect(getTagTree(ctx.db, id).map((x) => x.key)).toEqual(["Species", "Imaging"]);

    r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "   ", value: "x", version: "3" });
    expect(r.status).toBe(400);
    expect(r.html).toContain("every tag needs a key that is not just spaces");
    r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "Notes", value: "y".repeat(100 * 1024), version: "3" });
    expect(r.status).toBe(413);
    expect(r.html).toContain("The value of tag &quot;Notes&quot; is 102,400 characters long; the limit is 4,096");
    // The person's key stays in the form after a refusal.
    expect(r.html).toContain('value="Notes"');

    // Build a chain MAX_DEPTH deep, then one more level is refused.
    let chain = t(`L${MAX_DEPTH}`);
    for (let i = MAX_DEPTH - 1; i >= 1; i--) chain = t(`L${i}`, "", [chain]);
    replaceTags(ctx, "bob", id, [chain]);
    const deepest = Array.from({ length: MAX_DEPTH }, () => "0").join(".");
    r = await post(`/datasets/${id}/tags/add`, { parent: deepest, key: "Too deep", value: "", version: "4", confirmKey: "1" });
    expect(r.status).toBe(400);
    expect(r.html).toContain(`Tags nest at most ${MAX_DEPTH} levels deep`);
    expect(getTagTree(ctx.db, id)).toEqual([chain]);

    // Deleting a subtree takes its children with it, in one change.
    r = await post(`/datasets/${id}/tags/op`, { op: "delete", path: "0", version: "4" });
    expect(r.status).toBe(200);
    expect(getTagTree(ctx.db, id)).toEqual([]);
    const kinds = ctx.db
      .query<{ kind: string }, [number]>("SELECT kind FROM events WHERE dataset_id = ? ORDER BY id")
      .all(id)
      .map((e) => e.kind);
    expect(kinds).toEqual(["tags.replaced", "tags.edited", "tags.replaced", "tags.edited"]);
  });

  test("did you mean: a near-duplicate key is held for a choice; Use takes the common key, Keep the typed one", async () => {
    const { ctx, post } = setup();
    for (const p of ["a", "b"]) replaceTags(ctx, "bob", addDataset(ctx, { path: p }), [t("Species", "sheep")]);
    const id = addDataset(ctx, { path: "d" });
    let r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "species ", value: "pig", version: "1" });
    expect(r.status).toBe(200);
    expect(r.html).toContain("Did you mean “<strong>Species</strong>”, used by 2 datasets?");
    expect(getTagTree(ctx.db, id)).toEqual([]);
    // Answering on an outdated page is refused like any other stale change.
    replaceTags(ctx, "bob", id, [t("Site", "Bern")]);
    r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "Specis", value: "pig", version: "1" });
    expect(r.status).toBe(409);
    r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "Specis", value: "pig", version: "2", use: "Species" });
    expect(r.status).toBe(200);
    r = await post(`/datasets/${id}/tags/add`, { parent: "", key: "Specis", value: "pig", version: "3", confirmKey: "1" });
    expect(r.status).toBe(200);
    expect(getTagTree(ctx.db, id)).toEqual([t("Site", "Bern"), t("Species", "pig"), t("Specis", "pig")]);
  });

  test("inline description edit: saved fragment, and a stale one keeps the person's text beside the current values", async () => {
    const { ctx, post } = setup();
    const id = addDataset(ctx, { path: "d", title: "First" });
    let r = await post(`/datasets/${id}/describe`, { title: "Second", description: "<b>bold</b>", version: "1" }, "PATCH");
    expect(r.status).toBe(200);
    expect(r.html).toContain("Saved.");
    expect(r.html).toContain("&lt;b&gt;bold&lt;/b&gt;");
    r = await post(`/datasets/${id}/describe`, { title: "Mine", description: "", version: "1" }, "PATCH");
    expect(r.status).toBe(409);
    expect(r.html).toContain('value="Mine"');
    expect(r.html).toContain("Current title</dt><dd>Second</dd>");
  });

  test("someone who may not edit sees the metadata without editing controls, and a change is refused", async () => {
    const { ctx } = setup();
    const id = addDataset(ctx, { path: "d", title: "Alice's scan", owner: "alice" });
    replaceTags(ctx, "alice", id, [t("Species", "sheep")]);
    const app = createApp(ctx);
    const { headers } = signIn(ctx, "mallory", false);
    const page = await (await app.request(`/datasets/${id}`, { headers })).text();
    expect(page).toContain("Alice&#39;s scan");
    expect(page).toContain('data-key="Species"');
    expect(page).not.toContain("Edit title and description");
    expect(page).not.toContain('name="op"');
    expect(page).not.toContain("Add tag");
    expect(page).not.toContain("parent-search");
    expect(page).toContain("Only the owner, editors and admins can change these tags.");
    const res = await app.request(`/datasets/${id}/tags/op`, {
      method: "POST",
      headers: { ...headers, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: "op=delete&path=0&version=2",
    });
    expect(res.status).toBe(403);
    expect(getTagTree(ctx.db, id)).toEqual([t("Species", "sheep")]);
  });

  test("the slice viewer shows only to people who may read the content; others see the preview's state", async () => {
    const { ctx } = setup();
    const id = addDataset(ctx, { path: "v", title: "Volume", owner: "alice" });
    ctx.db
      .query(
        "INSERT INTO previews (dataset_id, n, file, kind, state, progress, width, height, depth, content_key, updated_at) VALUES (?, 0, 'v.nii', 'volume', 'ready', 1, 64, 64, 32, 'k', 0)",
      )
      .run(id);
    const app = createApp(ctx);
    const owner = await (await app.request(`/datasets/${id}`, { headers: signIn(ctx, "alice", false).headers })).text();
    expect(owner).toContain('class="mata-viewer"');
    expect(owner).toContain(`/api/v1/datasets/${id}/previews/0`);
    const other = await (await app.request(`/datasets/${id}`, { headers: signIn(ctx, "mallory", false).headers })).text();
    expect(other).not.toContain("mata-viewer");
    expect(other).not.toContain(`/previews/0`);
    expect(other).toContain("A preview exists. Viewing it needs read access: ask the owner (alice)");
  });

  test("the list shows a dataset's thumbnail only to people who may read it", async () => {
    const { ctx } = setup();
    const id = addDataset(ctx, { path: "v", title: "Volume", owner: "alice" });
    addDataset(ctx, { path: "w", title: "No preview", owner: "alice" });
    ctx.db
      .query(
        "INSERT INTO previews (dataset_id, n, file, kind, state, progress, width, height, depth, content_key, updated_at) VALUES (?, 0, 'v.nii', 'volume', 'ready', 1, 64, 64, 32, 'abcdef0123456789abcdef', 0)",
      )
      .run(id);
    const app = createApp(ctx);
    const owner = await (await app.request("/datasets", { headers: signIn(ctx, "alice", false).headers })).text();
    expect(owner.match(/<img src="[^"]+"/g)).toEqual([`<img src="/api/v1/datasets/${id}/previews/0/thumbnail?v=abcdef0123456789"`]);
    const other = await (await app.request("/datasets", { headers: signIn(ctx, "mallory", false).headers })).text();
    expect(other).toContain("No preview");
    expect(other).not.toContain("/thumbnail");
  });

  test("static assets of the pages are embedded", async () => {
    const { get } = setup();
    expect((await get("/static/tags.js")).html).toContain("responseHandling");
    expect((await get("/static/datasets.css")).html).toContain(".tag-tree");
  });
});
