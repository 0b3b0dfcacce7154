import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { withUser, type TestUser } from "../support/auth.ts";
import { addDataset, setTags, t } from "./fixtures.ts";
import { fontSize, zipfWeight, MIN_EM, MAX_EM } from "../../src/search/cloud.service.ts";
import { subtreeHash } from "../../src/tags/tag-hash.ts";

let ctx: ReturnType<typeof testContext>;
let app: ReturnType<typeof createApp>;
let admin: TestUser;
const get = (url: string) => app.request(url, { headers: admin.headers });

beforeEach(() => {
  ctx = testContext();
  app = createApp(ctx);
  admin = withUser(ctx, "admin", { admin: true });
});
afterEach(() => ctx.cleanup());

describe("tag cloud", () => {
  test("every distinct tag, alphabetical ignoring case, with counts and Zipf weights", async () => {
    for (let i = 0; i < 40; i++) {
      const id = addDataset(ctx.db, { title: `d${i}` });
      const tags = [t("Species", i < 30 ? "sheep" : "human")];
      if (i < 4) tags.push(t("organ", "lung"));
      if (i === 0) tags.push(t("Speceis", "sheep")); // a typo: small but present
      setTags(ctx.db, id, tags);
    }
    const res = await get("/api/v1/tags/cloud");
    expect(res.status).toBe(200);
    const c = await res.json();
    expect(c.items.map((i: any) => `${i.key}=${i.value}:${i.count}`)).toEqual(["organ=lung:4", "Speceis=sheep:1", "Species=human:10", "Species=sheep:30"]);
    expect(c.max).toBe(30);
    const w = Object.fromEntries(c.items.map((i: any) => [`${i.key}=${i.value}`, i]));
    expect(w["Species=sheep"].weight).toBe(1);
    expect(w["Speceis=sheep"].weight).toBe(0);
    expect(w["Speceis=sheep"].size).toBe(MIN_EM);
    expect(w["Species=sheep"].size).toBe(MAX_EM);
    // Log scale: 10 of 30 is far more than a third of the way up, so the variation stays small.
    expect(w["Species=human"].weight).toBeCloseTo(Math.log(10) / Math.log(30), 3);
    expect(w["Species=human"].weight).toBeGreaterThan(0.6);

    const keys = await (await get("/api/v1/tags/cloud?mode=keys")).json();
    expect(keys.items.map((i: any) => `${i.key}:${i.count}`)).toEqual(["organ:4", "Speceis:1", "Species:40"]);
    const prefixed = await (await get("/api/v1/tags/cloud?prefix=spe")).json();
    expect(prefixed.items.map((i: any) => i.key)).toEqual(["Speceis", "Species", "Species"]);
    expect((await get("/api/v1/tags/cloud?mode=words")).status).toBe(400);
  });

  test("the counts follow tag edits and deletions (count tables, no GROUP BY at request time)", async () => {
    const a = addDataset(ctx.db, { title: "a" });
    const b = addDataset(ctx.db, { title: "b" });
    setTags(ctx.db, a, [t("Stain", "HE")]);
    setTags(ctx.db, b, [t("Stain", "HE")]);
    let c = await (await get("/api/v1/tags/cloud")).json();
    expect(c.items).toEqual([expect.objectContaining({ key: "Stain", value: "HE", count: 2 })]);
    setTags(ctx.db, b, [t("Stain", "PAS")]);
    ctx.db.query("DELETE FROM datasets WHERE id = ?").run(a);
    c = await (await get("/api/v1/tags/cloud")).json();
    expect(c.items).toEqual([expect.objectContaining({ key: "Stain", value: "PAS", count: 1 })]);
  });

  test("the page is alphabetical, sized, switchable, and each tag links to its tag page", async () => {
    const a = addDataset(ctx.db, { title: "a" });
    setTags(ctx.db, a, [t("Species", "sheep"), t("Organ", "lung")]);
    const html = await (await get("/tags")).text();
    expect(html.indexOf("Organ = lung")).toBeLessThan(html.indexOf("Species = sheep"));
    expect(html).toContain('href="/tags/by?key=Species&amp;value=sheep"');
    expect(html).toMatch(/style="font-size:[0-9.]+em"/);
    expect(html).toContain('href="/tags?mode=keys"');
    const keys = await (await get("/tags?mode=keys")).text();
    expect(keys).toContain('href="/tags/by?key=Species"');
    const go = await get("/tags/by?key=Species&value=sheep");
    expect(go.status).toBe(302);
    expect(go.headers.get("Location")).toBe(`/tags/${subtreeHash(t("Species", "sheep"))}`);
  });

  test("weights never exceed the band", () => {
    expect(zipfWeight(1, 1)).toBe(0);
    expect(zipfWeight(5000, 5000)).toBe(1);
    expect(fontSize(0.5)).toBeCloseTo((MIN_EM + MAX_EM) / 2, 2);
  });
});

describe("tag page: equal subtrees", () => {
  test("datasets are listed when key, value and children are equal recursively, children order ignored", async () => {
    const patient = (order: "ab" | "ba", extra = false) => {
      const kids = [t("Species", "human", [t("Sex", "f")]), t("Age", "61")];
      if (order === "ba") kids.reverse();
      if (extra) kids.push(t("Weight", "70"));
      return t("Patient", "P-0042", kids);
    };
    const d1 = addDataset(ctx.db, { title: "Sample_CT002" });
    const d2 = addDataset(ctx.db, { title: "test-Merge of twins CT" });
    const d3 = addDataset(ctx.db, { title: "Sample_CT001" });
    const d4 = addDataset(ctx.db, { title: "Other" });
    setTags(ctx.db, d1, [patient("ab")]);
    setTags(ctx.db, d2, [t("Study", "twins", [patient("ba")])]); // equal subtree, deeper in the tree
    setTags(ctx.db, d3, [patient("ab", true)]); // one more child: a different tag
    setTags(ctx.db, d4, [t("Patient", "P-0042", [t("Species", "human", [t("Sex", "m")]), t("Age", "61")])]); // differs two levels down

    const hash = subtreeHash(patient("ab"));
    const res = await get(`/api/v1/tags/${hash}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.total).toBe(2);
    expect(body.items.map((d: any) => d.id).sort()).toEqual([d1, d2].sort());
    expect(body.tag.key).toBe("Patient");
    expect(body.tag.children.map((c: any) => c.key).sort()).toEqual(["Age", "Species"]);

    const page = await (await get(`/tags/${hash}`)).text();
    expect(page).toContain("Sample_CT002");
    expect(page).toContain("test-Merge of twins CT");
    expect(page).not.toContain("Sample_CT001");

    // The pair Patient=P-0042 heads three different subtrees: the cloud link offers the choice.
    const choice = await get("/tags/by?key=Patient&value=P-0042");
    expect(choice.status).toBe(200);
    const html = await choice.text();
    expect(html).toContain("3 different sets of child tags");
    expect(html).toContain(`href="/tags/${hash}"`);

    expect((await get(`/api/v1/tags/${"0".repeat(64)}`)).status).toBe(404);
    expect((await get("/tags/by?key=Nope&value=x")).status).toBe(404);
    expect((await get("/tags/by")).status).toBe(400);
  });
});

describe("cloud summary", () => {
  test("the maximum and the number of tags are reused while nothing is written, and at most 2 s stale under writes", async () => {
    const a = addDataset(ctx.db, { title: "a" });
    setTags(ctx.db, a, [t("Stain", "HE")]);
    let now = 0;
    const { tagCloud } = await import("../../src/search/cloud.service.ts");
    const view = () => tagCloud({ ...ctx, clock: { now: () => now } }, { mode: "pairs", prefix: "", limit: 10, offset: 0 });
    expect([view().total, view().max]).toEqual([1, 1]);
    const b = addDataset(ctx.db, { title: "b" });
    setTags(ctx.db, b, [t("Stain", "HE"), t("Stain", "PAS")]);
    now = 1_000;
    expect([view().total, view().max]).toEqual([1, 1]);
    expect(view().items.map((i) => i.count)).toEqual([2, 1]); // the tags themselves are always read fresh
    now = 2_500;
    expect([view().total, view().max]).toEqual([2, 2]);
  });
});

describe("a subtree most datasets carry", () => {
  test("its tag page lists newest first past 5,000 carriers, alphabetical below", async () => {
    const { subtreeHash: h } = await import("../../src/tags/tag-hash.ts");
    const hash = h(t("Lab", "Southampton"));
    const ds = ctx.db.query<{ id: number }, [string, string, string]>(
      "INSERT INTO datasets (uid, path, title, created_at, updated_at) VALUES (?, ?, ?, 0, 0) RETURNING id",
    );
    const tag = ctx.db.query("INSERT INTO tags (dataset_id, parent_id, position, key, value, subtree_hash) VALUES (?, NULL, 0, 'Lab', 'Southampton', ?)");
    let last = 0;
    ctx.db.transaction(() => {
      for (let i = 0; i < 5_001; i++) {
        last = ds.get(`lab-${i}`, `lab/${i}`, `${String.fromCharCode(65 + (i % 26))} scan ${i}`)!.id;
        tag.run(last, hash);
      }
    })();
    const big = await (await get(`/api/v1/tags/${hash}?limit=3`)).json();
    expect(big.total).toBe(5_001);
    expect(big.alphabetical).toBe(false);
    expect(big.items[0].id).toBe(last);
    ctx.db.query("DELETE FROM datasets WHERE id = ?").run(last);
    const small = await (await get(`/api/v1/tags/${hash}?limit=3`)).json();
    expect(small.alphabetical).toBe(true);
    expect(small.items.map((d: any) => d.title[0])).toEqual(["A", "A", "A"]);
  }, 30_000);
});
