import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { withUser, type TestUser } from "../support/auth.ts";
import { addDataset, setTags, t } from "./fixtures.ts";
import { filterDatasetIds } from "../../src/search/tag-filter.repo.ts";
import { parseTagFilter } from "../../src/search/tag-filter.ts";
import { parseQuery, ftsExpression } from "../../src/search/search.query.ts";

let ctx: ReturnType<typeof testContext>;
let app: ReturnType<typeof createApp>;
let admin: TestUser;
const ids = { lung: 0, heart: 0, sample: 0, plain: 0 };

beforeEach(() => {
  ctx = testContext();
  app = createApp(ctx);
  admin = withUser(ctx, "admin", { admin: true });
  const db = ctx.db;
  ids.lung = addDataset(db, {
    title: "Lung biopsy micro-CT",
    description: "A lung biopsy scanned by micro-CT; the lung biopsy shows fibrosis. Lung lung.",
    owner: "alice",
    createdAt: Date.UTC(2024, 2, 10),
    bytes: 5e9,
  });
  ids.heart = addDataset(db, {
    title: "Sheep heart",
    description: "Heart of a sheep; biopsy of the lung was not taken.",
    owner: "bob",
    createdAt: Date.UTC(2023, 5, 1),
    bytes: 2e6,
  });
  ids.sample = addDataset(db, { title: "Sample_CT001", description: "Segmentation of the scan", owner: "alice", createdAt: Date.UTC(2024, 6, 1), bytes: 3e8 });
  ids.plain = addDataset(db, { title: "Zebrafish embryo", description: "3D microscopy stack", owner: "carol", createdAt: Date.UTC(2025, 0, 1), bytes: 1e7 });
  setTags(db, ids.lung, [t("Organ", "lung"), t("Patient", "", [t("Species", "sheep"), t("ID", "P-17")]), t("Modality", "micro-CT")]);
  setTags(db, ids.heart, [t("Organ", "heart"), t("Species", "sheep")]);
  setTags(db, ids.sample, [t("Organ", "lung"), t("Modality", "micro-CT")]);
  setTags(db, ids.plain, [t("Species", "zebrafish")]);
});
afterEach(() => ctx.cleanup());

async function api(q: string, extra = ""): Promise<{ status: number; body: any }> {
  const res = await app.request(`/api/v1/search?q=${encodeURIComponent(q)}${extra}`, { headers: admin.headers });
  return { status: res.status, body: await res.json() };
}
const idsOf = (body: any) => body.items.map((i: any) => i.id);

describe("basic search (the paper's)", () => {
  test("an exact phrase is found in titles, descriptions, tag keys and tag values, most matches first", async () => {
    const { status, body } = await api('"lung biopsy"');
    expect(status).toBe(200);
    // lung: title 1 + description 2 = 3; heart: "biopsy of the lung" is not the phrase.
    expect(body.items).toEqual([expect.objectContaining({ id: ids.lung, title: "Lung biopsy micro-CT", matches: 3 })]);

    const tagValue = await api('"micro CT"');
    expect(idsOf(tagValue.body).sort()).toEqual([ids.lung, ids.sample].sort());
    // lung has it in title, description and a tag value; sample only in a tag value.
    expect(tagValue.body.items[0]).toMatchObject({ id: ids.lung, matches: 3 });
    expect(tagValue.body.items[1]).toMatchObject({ id: ids.sample, matches: 1 });

    const tagKey = await api("Patient");
    expect(idsOf(tagKey.body)).toEqual([ids.lung]);
  });

  test("results are ordered by the number of matches", async () => {
    const { body } = await api("lung");
    expect(idsOf(body)).toEqual([ids.lung, ids.sample, ids.heart]);
    const matches = body.items.map((i: any) => i.matches);
    expect(matches).toEqual([...matches].sort((a: number, b: number) => b - a));
    expect(matches[0]).toBe(6); // title 1, description 4, tag value 1
  });

  test("the search page highlights what matched", async () => {
    const res = await app.request(`/search?q=${encodeURIComponent('"lung biopsy"')}`, { headers: admin.headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("<mark>Lung biopsy</mark> micro-CT");
    expect(html).toContain("3 matches");
    expect(html).toContain(`href="/datasets/${ids.lung}"`);
  });
});

describe("beyond the paper", () => {
  test("several words must all appear, in any order and any field", async () => {
    expect(idsOf((await api("sheep heart")).body)).toEqual([ids.heart]);
    expect(idsOf((await api("fibrosis sheep")).body)).toEqual([ids.lung]);
    expect(idsOf((await api("fibrosis zebrafish")).body)).toEqual([]);
  });

  test("prefixes and substrings", async () => {
    expect(idsOf((await api("zebra*")).body)).toEqual([ids.plain]);
    expect(idsOf((await api("fibro*")).body)).toEqual([ids.lung]);
    // "ample_CT0" is inside the word Sample_CT001: only the trigram index finds it.
    expect(idsOf((await api("*ample_CT0*")).body)).toEqual([ids.sample]);
    expect(idsOf((await api("*brafi*")).body)).toEqual([ids.plain]);
    const short = await api("*ab*");
    expect(short.status).toBe(400);
    expect(short.body.error.message).toContain("at least 3 characters");
  });

  test("key=value and key: filters, in the query and as tag= parameters, at any depth of the tree", async () => {
    expect(idsOf((await api("Organ=lung")).body).sort()).toEqual([ids.lung, ids.sample].sort());
    expect(idsOf((await api("Species=sheep")).body).sort()).toEqual([ids.lung, ids.heart].sort());
    expect(idsOf((await api("Patient:")).body)).toEqual([ids.lung]);
    expect(idsOf((await api("lung Species=sheep")).body).sort()).toEqual([ids.lung, ids.heart].sort());
    expect(idsOf((await api('"micro CT" Organ=lung', "&tag=Patient:")).body)).toEqual([ids.lung]);
    expect(idsOf((await api("", "&tag=Species%3Dzebrafish")).body)).toEqual([ids.plain]);
    expect(idsOf((await api('"Organ"="lung"')).body).sort()).toEqual([ids.lung, ids.sample].sort());
    expect(filterDatasetIds(ctx.db, [parseTagFilter("Organ=lung"), parseTagFilter("Modality:")])).toEqual([ids.lung, ids.sample].sort((a, b) => a - b));
    expect(() => parseTagFilter("=x")).toThrow(/needs a key/);
  });

  test("filters by owner, creation date and size", async () => {
    expect(idsOf((await api("lung", "&owner=alice")).body).sort()).toEqual([ids.lung, ids.sample].sort());
    expect(idsOf((await api("lung", "&from=2024-01-01&to=2024-03-10")).body)).toEqual([ids.lung]);
    expect(idsOf((await api("lung", "&minSize=1GB")).body)).toEqual([ids.lung]);
    expect(idsOf((await api("lung", "&maxSize=10%20MB")).body)).toEqual([ids.heart]);
    expect(idsOf((await api("", "&owner=carol")).body)).toEqual([ids.plain]);
    const bad = await api("lung", "&from=2024-02-30");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("from must be a date");
    expect((await api("lung", "&minSize=lots")).body.error.message).toContain("minSize must be a size");
  });

  test("facets: the most common keys and values among the results, and clickable on the page", async () => {
    const { body } = await api("lung", "&facets=1");
    expect(body.facets.pairs.slice(0, 3)).toEqual([
      { key: "Modality", value: "micro-CT", count: 2 },
      { key: "Organ", value: "lung", count: 2 },
      { key: "Species", value: "sheep", count: 2 },
    ]);
    expect(body.facets.keys[0]).toEqual({ key: "Organ", count: 3 });
    const html = await (await app.request("/search?q=lung", { headers: admin.headers })).text();
    expect(html).toContain('href="/search?q=lung&amp;tag=Organ%3Dlung"');
    const narrowed = await (await app.request("/search?q=lung&tag=Organ%3Dlung", { headers: admin.headers })).text();
    expect(narrowed).toContain("2 datasets");
    expect(narrowed).toContain("Organ=lung ×");
  });

  test("results are paged; the total stays the same on every page", async () => {
    for (let i = 0; i < 25; i++) addDataset(ctx.db, { title: `Lung series ${i}`, description: i % 2 ? "lung lung" : "" });
    const first = await api("lung", "&limit=10");
    const second = await api("lung", "&limit=10&offset=10");
    expect(first.body.total).toBe(28);
    expect(second.body.total).toBe(28);
    const all = [...idsOf(first.body), ...idsOf(second.body), ...idsOf((await api("lung", "&limit=10&offset=20")).body)];
    expect(new Set(all).size).toBe(28);
    const html = await (await app.request("/search?q=lung", { headers: admin.headers })).text();
    expect(html).toContain('href="/search?q=lung&amp;offset=20">Next');
  });

  test("search-as-you-type: the header box searches the last word as a prefix", async () => {
    const res = await app.request("/search/suggest?q=zebr", { headers: { ...admin.headers, "HX-Request": "true" } });
    const html = await res.text();
    expect(html).toContain(`href="/datasets/${ids.plain}"`);
    expect(html).toContain("<mark>Zebrafish</mark>");
    expect(html).toContain('href="/search?q=zebr*"');
    // Enter on a half-typed word: the page falls back to the prefix and says so; the API searches words as given.
    const page = await (await app.request("/search?q=zebr", { headers: admin.headers })).text();
    expect(page).toContain("showing results for <code>zebr*</code>");
    expect(page).toContain(`href="/datasets/${ids.plain}"`);
    expect((await api("zebr")).body.items).toEqual([]);
    const layout = await (await app.request("/search", { headers: admin.headers })).text();
    expect(layout).toContain('hx-get="/search/suggest"');
  });
});

describe("indexes stay in step through triggers", () => {
  test("title, description and tag edits and deletions are seen by the next search", async () => {
    expect(idsOf((await api("okapi")).body)).toEqual([]);
    ctx.db.query("UPDATE datasets SET title = 'Okapi skull' WHERE id = ?").run(ids.plain);
    expect(idsOf((await api("okapi")).body)).toEqual([ids.plain]);
    expect(idsOf((await api("zebrafish")).body)).toEqual([ids.plain]); // still in its tag
    setTags(ctx.db, ids.plain, [t("Species", "okapi")]);
    expect(idsOf((await api("zebrafish")).body)).toEqual([]);
    ctx.db.query("DELETE FROM datasets WHERE id = ?").run(ids.plain);
    expect(idsOf((await api("okapi")).body)).toEqual([]);
    expect(idsOf((await api("*kapi*")).body)).toEqual([]);
    // The index and its documents agree after all that.
    ctx.db.exec("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')");
    ctx.db.exec("INSERT INTO search_tri (search_tri) VALUES ('integrity-check')");
  });
});

describe("bad input never breaks search", () => {
  const nasty = [
    '"',
    '"unterminated phrase',
    '""',
    "lung OR heart",
    "NOT lung",
    "lung AND",
    "NEAR(lung heart, 2)",
    "title:lung",
    "{title description}: lung",
    "^lung",
    "lung -heart",
    "'; DROP TABLE datasets; --",
    '" OR 1=1 --',
    "lung' UNION SELECT * FROM accounts --",
    "*",
    "**",
    "***",
    "+++",
    "( ) [ ] { } : ^ ~",
    "\\x00\u0000null",
    "💥 bió*psy",
    "=",
    ":",
    "a:b:c=d=e",
  ];
  for (const q of nasty) {
    test(`query ${JSON.stringify(q)} is answered, never an error page`, async () => {
      const { status, body } = await api(q);
      expect(status).toBe(200);
      expect(Array.isArray(body.items)).toBe(true);
      const page = await app.request(`/search?q=${encodeURIComponent(q)}`, { headers: admin.headers });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="search-results"');
    });
  }

  test("operators are plain words, and SQL reaches nothing", async () => {
    addDataset(ctx.db, { title: "To be OR not to be" });
    expect((await api("lung OR heart")).body.items).toEqual([]);
    expect((await api("OR")).body.items.map((i: any) => i.title)).toEqual(["To be OR not to be"]);
    await api("'; DROP TABLE datasets; --");
    expect(ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM datasets").get()!.n).toBe(5);
    expect(ftsExpression(parseQuery('NEAR(a b) "x"" OR y" c*').terms)).toBe('"near a" AND "b" AND "x" AND "or y" AND "c"*');
  });

  test("a 10,000-character query is refused with a clear 400", async () => {
    const { status, body } = await api("a".repeat(10_000));
    expect(status).toBe(400);
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toBe("The search text is 10000 characters long; at most 1000 are allowed.");
    const page = await app.request(`/search?q=${"a".repeat(10_000)}`, { headers: admin.headers });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("at most 1000 are allowed");
  });

  test("the search needs a signed-in account", async () => {
    const res = await app.request("/api/v1/search?q=lung");
    expect(res.status).toBe(401);
  });
});

describe("background indexer", () => {
  test("folds changed datasets in slices between requests, so a bulk change does not land on one search", async () => {
    const { startSearchIndexer } = await import("../../src/search/search.indexer.ts");
    const count = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM search_dirty").get()!.n;
    const ticks: (() => void)[] = [];
    const stop = startSearchIndexer(ctx, { batch: 10, ticker: { every: (_ms, fn) => (ticks.push(fn), () => ticks.splice(0)) } });
    for (let i = 0; i < 25; i++) addDataset(ctx.db, { title: `bulk ${i}` });
    expect(count()).toBe(29); // the four of beforeEach were never searched yet
    ticks[0]!();
    expect(count()).toBe(19);
    ticks[0]!();
    ticks[0]!();
    expect(count()).toBe(0);
    expect(idsOf((await api("bulk")).body).length).toBe(25);
    stop();
    expect(ticks.length).toBe(0);
  });

  test("markup in titles and tags is shown as text, never as HTML", async () => {
    const id = addDataset(ctx.db, { title: "<script>alert(1)</script> lung", description: "<img src=x onerror=alert(2)>" });
    setTags(ctx.db, id, [t("<b>key</b>", "<i>lung</i>")]);
    const html = await (await app.request("/search?q=lung", { headers: admin.headers })).text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<i>lung</i>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; <mark>lung</mark>");
    expect(html).toContain("&lt;i&gt;<mark>lung</mark>&lt;/i&gt;");
  });

  test("a signed-in account that is not an admin may search", async () => {
    const bob = withUser(ctx, "bob");
    const res = await app.request("/api/v1/search?q=lung", { headers: bob.headers });
    expect(res.status).toBe(200);
    expect((await res.json()).items.length).toBe(3);
    expect((await app.request("/tags", { headers: bob.headers })).status).toBe(200);
    expect((await app.request(`/api/v1/datasets/${ids.lung}/graph`, { headers: bob.headers })).status).toBe(200);
  });
});

describe("tag filters at scale", () => {
  test("a tag most datasets carry is probed per row, a rare one listed; both give the same answers", async () => {
    {
      for (let i = 0; i < 30; i++) {
        const id = addDataset(ctx.db, { title: `bulk lung ${i}` });
        setTags(ctx.db, id, [t("Common", "yes"), ...(i % 10 === 0 ? [t("Rare", "yes")] : [])]);
      }
    }
    const { tagFilterSql } = await import("../../src/search/tag-filter.repo.ts");
    const sql = tagFilterSql("datasets.id", [{ key: "Common", value: "yes" }, { key: "Rare" }], [30_000, 3]).sql;
    expect(sql).toBe(
      "EXISTS (SELECT 1 FROM tags WHERE tags.dataset_id = datasets.id AND key = ? AND value = ?) AND datasets.id IN (SELECT dataset_id FROM tags WHERE key = ?)",
    );
    expect(idsOf((await api("lung Common=yes Rare:")).body).length).toBe(3);
    expect(filterDatasetIds(ctx.db, [parseTagFilter("Common=yes"), parseTagFilter("Rare:")]).length).toBe(3);
    expect((await api("Common=yes")).body.total).toBe(30);
  });
});

describe("very common words", () => {
  test("past 10,000 matches the total is capped and the newest are ordered by matches, still fast", async () => {
    const insert = ctx.db.query("INSERT INTO datasets (uid, path, title, description, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)");
    ctx.db.transaction(() => {
      for (let i = 0; i < 10_050; i++) insert.run(`many-${i}`, `many/${i}`, `common ${i}`, i % 3 === 0 ? "common common" : "");
    })();
    await api("warm"); // folds the 10,050 new documents in
    const t0 = performance.now();
    const { body } = await api("common", "&limit=20");
    const ms = performance.now() - t0;
    expect(body.total).toBe(10_000);
    expect(body.totalCapped).toBe(true);
    expect(body.ranked).toBe(false);
    expect(body.items.length).toBe(20);
    expect(body.items.every((i: any) => i.matches === 3)).toBe(true);
    expect(ms).toBeLessThan(500);
    const page = await (await app.request("/search?q=common", { headers: admin.headers })).text();
    expect(page).toContain("More than 10,000 datasets; the newest are shown");
  }, 30_000);
});

describe("datasets without a title", () => {
  test("are found and shown by their folder name, and follow renames", async () => {
    const id = addDataset(ctx.db, { title: "", path: "scans/Sample_CT007" });
    expect((await api("Sample_CT007")).body.items).toEqual([expect.objectContaining({ id, title: "Sample_CT007", matches: 1 })]);
    ctx.db.query("UPDATE datasets SET path = 'scans/Sample_CT008' WHERE id = ?").run(id);
    expect(idsOf((await api("Sample_CT007")).body)).toEqual([]);
    expect(idsOf((await api("*CT008*")).body)).toEqual([id]);
  });
});
