import { afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { FILE_PAGE_SQL } from "../../src/datasets/datasets.repo.ts";
import { testContext } from "../support/env.ts";
import { addDataset, signIn } from "../metadata/support.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

type Page = { items: { path: string; size: number; modifiedAt: string }[]; total: number; next: string | null };

/** A dataset of `n` file rows named f00000.bin ... (rows only: listing never opens the files). */
function setup(n: number) {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const id = addDataset(ctx, { path: "big", files: n, bytes: n });
  const insert = ctx.db.query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, 1, 0, ?, 0)");
  ctx.db.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(id, `f${String(i).padStart(5, "0")}.bin`, i);
  })();
  const app = createApp(ctx);
  const { headers } = signIn(ctx, "bob", false);
  const get = async (url: string) => {
    const res = await app.request(url, { headers });
    return { status: res.status, body: (await res.json()) as Page & { error?: { message: string } } };
  };
  return { ctx, id, get };
}

describe("GET /api/v1/datasets/{id}/files", () => {
  test("pages by cursor: after the previous page's next, to a null next on the last page", async () => {
    const { id, get } = setup(250);
    const seen: string[] = [];
    let url: string | null = `/api/v1/datasets/${id}/files?limit=100`;
    const sizes: number[] = [];
    while (url) {
      const r = await get(url);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(250);
      sizes.push(r.body.items.length);
      seen.push(...r.body.items.map((i) => i.path));
      url = r.body.next === null ? null : `/api/v1/datasets/${id}/files?limit=100&after=${encodeURIComponent(r.body.next)}`;
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `f${String(i).padStart(5, "0")}.bin`));
  });

  test("after is any path, listed or not; limit and offset keep working and give next too", async () => {
    const { id, get } = setup(250);
    const between = await get(`/api/v1/datasets/${id}/files?limit=3&after=f00099.bin~`);
    expect(between.body.items.map((i) => i.path)).toEqual(["f00100.bin", "f00101.bin", "f00102.bin"]);
    expect(between.body.next).toBe("f00102.bin");
    const offset = await get(`/api/v1/datasets/${id}/files?limit=2&offset=248`);
    expect(offset.body.items.map((i) => i.path)).toEqual(["f00248.bin", "f00249.bin"]);
    expect(offset.body.next).toBeNull();
    const mid = await get(`/api/v1/datasets/${id}/files?limit=2&offset=10`);
    expect(mid.body.next).toBe("f00011.bin");
    const end = await get(`/api/v1/datasets/${id}/files?after=f00249.bin`);
    expect(end.body).toMatchObject({ items: [], total: 250, next: null });
  });

  test("after and offset together are refused, naming both", async () => {
    const { id, get } = setup(3);
    const r = await get(`/api/v1/datasets/${id}/files?after=a&offset=2`);
    expect(r.status).toBe(400);
    expect(r.body.error!.message).toBe("Give after or offset, not both");
  });

  test("every page query walks the (dataset_id, path) index: no scan, no sort", () => {
    const { ctx } = setup(10);
    for (const [name, sql] of Object.entries(FILE_PAGE_SQL)) {
      const args = name === "after" || name === "before" ? [1, "f", 100] : [1, 100];
      const plan = ctx.db
        .query<{ detail: string }, (string | number)[]>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((r) => r.detail)
        .join(" | ");
      expect(plan).toMatch(/^SEARCH files USING INDEX sqlite_autoindex_files_1 \(dataset_id=\?/);
      expect(plan).not.toContain("TEMP B-TREE");
    }
  });
});

describe("the dataset page's files", () => {
  test("100 a page by path cursor, next and back, with plain names for people who may not read the content", async () => {
    const { ctx, id } = setup(250);
    const app = createApp(ctx);
    const other = signIn(ctx, "bob", false).headers;
    const page = async (url: string) => (await app.request(url, { headers: other })).text();
    const names = (html: string) => [...html.matchAll(/<td class="path">([^<]*)<\/td>/g)].map((m) => m[1]);
    const link = (html: string, rel: string) => html.match(new RegExp(`<a href="([^"]+)" rel="${rel}">`))?.[1]?.replace(/&amp;/g, "&") ?? null;
    const first = await page(`/datasets/${id}`);
    expect(names(first)).toHaveLength(100);
    expect(names(first)[0]).toBe("f00000.bin");
    expect(first).not.toContain("/api/v1/datasets/"); // bob may list but not read: no links to the content
    expect(link(first, "prev")).toBeNull();
    const second = await page(link(first, "next")!);
    expect(names(second)[0]).toBe("f00100.bin");
    const third = await page(link(second, "next")!);
    expect(names(third)).toHaveLength(50);
    expect(link(third, "next")).toBeNull();
    const back = await page(link(third, "prev")!);
    expect(names(back)).toEqual(names(second));
    const start = await page(link(back, "prev")!);
    expect(names(start)).toEqual(names(first));
    expect(link(start, "prev")).toBeNull();
  });
});
