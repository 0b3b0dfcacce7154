// Metadata (issue 3): the ranked dictionary at 100,000 datasets with 1,000,000 tags, the dataset page with 200 tags,
// and the dataset list at 100,000 datasets.
// Usage: bun bench/metadata.ts [--datasets N] [--keep DIR]
// Ours (count tables kept by triggers, one-typo prefix variants as index ranges; keyset paging) and a reference (the
// straightforward SQL: GROUP BY over the tag rows at request time; LIMIT/OFFSET paging) run on the same generated
// store in the same run; p50/p95 and the ratio are printed. The page render has the JSON detail of the same dataset
// as its reference (same reads, no HTML).
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../src/db/database.ts";
import type { AppContext } from "../src/context.ts";
import { contextOver } from "../src/services.ts";
import { loadConfig } from "../src/config.ts";
import { createApp } from "../src/app.ts";
import { createSession } from "../src/auth/session.service.ts";
import { suggest } from "../src/tags/dictionary.service.ts";
import { replaceTags } from "../src/tags/tags.service.ts";
import type { TagNode } from "../src/tags/tag.types.ts";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--datasets") + 1] ?? 0) || 100_000;
const TAGS_PER_DATASET = 10;
const keepDir = args.includes("--keep") ? args[args.indexOf("--keep") + 1]! : null;
const dir = keepDir ?? path.join(tmpdir(), `mata-metadata-bench-${N}`);
const dbFile = path.join(dir, "state", "mata.db");

function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(7);
/** Zipf(1) over n ranks (approximate inverse transform). */
function zipf(n: number): number {
  const u = rand() * (Math.log(n) + 0.5772);
  return Math.min(n - 1, Math.max(0, Math.floor(Math.exp(u - 0.5772)) - 1));
}
const SYL = [
  "spe",
  "ci",
  "es",
  "mo",
  "da",
  "li",
  "ty",
  "sca",
  "nner",
  "pro",
  "jec",
  "tion",
  "vo",
  "xel",
  "pa",
  "tient",
  "ex",
  "po",
  "sure",
  "tis",
  "sue",
  "stain",
  "age",
  "sex",
  "site",
];
function word(i: number): string {
  let w = "";
  let x = i + 3;
  do {
    w += SYL[x % SYL.length];
    x = Math.floor(x / SYL.length);
  } while (x > 0);
  return w;
}
// 2,000 keys used with Zipf frequency (plus typo and case variants among the rare ones), each with its own values;
// every 10th key is an identifier with (almost) unique values, so some keys have tens of thousands of values.
const KEYS = Array.from({ length: 2000 }, (_, i) => {
  const w = word(i);
  return i % 3 === 0 ? w[0]!.toUpperCase() + w.slice(1) : i % 3 === 1 ? `${w[0]!.toUpperCase()}${w.slice(1)} ${word(i + 40)}` : w;
});
function valueFor(keyIndex: number): string {
  if (keyIndex % 10 === 9) return `${word(keyIndex).slice(0, 3).toUpperCase()}-${String(Math.floor(rand() * 1e6)).padStart(6, "0")}`;
  return word(zipf(400) + keyIndex);
}

function build(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "root"), { recursive: true });
  const db = openDatabase(dbFile);
  const t0 = performance.now();
  const insDs = db.query<{ id: number }, [string, string, string, string, number, number, number, number]>(
    "INSERT INTO datasets (uid, path, title, owner, file_count, byte_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const insTag = db.query<{ id: number }, [number, number | null, number, string, string]>(
    "INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, ?, ?, ?, ?) RETURNING id",
  );
  const BATCH = 5000;
  for (let start = 0; start < N; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(N, start + BATCH); i++) {
        const id = insDs.get(
          crypto.randomUUID(),
          `group${i % 97}/scan-${String(i).padStart(6, "0")}`,
          `Scan ${word(zipf(3000))} ${i}`,
          `user${i % 23}`,
          1 + (i % 400),
          (i * 7919) % 40_000_000_000,
          i,
          i,
        )!.id;
        // 10 tags: 3 top-level tags with 2 children each, and 1 more top-level tag.
        let pos = 0;
        for (let top = 0; top < 4; top++) {
          const k = zipf(KEYS.length);
          const parent = insTag.get(id, null, pos++, KEYS[k]!, top === 3 ? valueFor(k) : "")!.id;
          if (top < 3)
            for (let c = 0; c < 2; c++) {
              const ck = zipf(KEYS.length);
              insTag.get(id, parent, c, KEYS[ck]!, valueFor(ck));
            }
        }
      }
    })();
  }
  db.exec("ANALYZE");
  const tags = db.query<{ n: number }, []>("SELECT count(*) AS n FROM tags").get()!.n;
  console.log(`built ${N.toLocaleString()} datasets, ${tags.toLocaleString()} tags in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  db.close();
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
function report(name: string, ours: number[], ref?: number[]): void {
  const o = `p50 ${pct(ours, 50).toFixed(2)} ms  p95 ${pct(ours, 95).toFixed(2)} ms`;
  const r = ref
    ? `   reference p50 ${pct(ref, 50).toFixed(1)} ms  p95 ${pct(ref, 95).toFixed(1)} ms   ratio (ref/ours, p95) ${(pct(ref, 95) / pct(ours, 95)).toFixed(pct(ref, 95) / pct(ours, 95) < 10 ? 1 : 0)}x`
    : "";
  console.log(`${name.padEnd(44)} ${o}${r}`);
}
function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// A one-letter typo somewhere in a prefix (substitution, swap, drop or extra letter).
function typo(s: string): string {
  if (s.length < 3) return s;
  const i = 1 + Math.floor(rand() * (s.length - 1));
  switch (Math.floor(rand() * 4)) {
    case 0:
      return s.slice(0, i) + "x" + s.slice(i + 1);
    case 1:
      return i + 1 < s.length ? s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2) : s.slice(0, i);
    case 2:
      return s.slice(0, i) + s.slice(i + 1);
    default:
      return s.slice(0, i) + "e" + s.slice(i);
  }
}

if (!existsSync(dbFile)) build();
const db = openDatabase(dbFile);
const ctx: AppContext = contextOver({ ...loadConfig({ root: path.join(dir, "root"), state: path.join(dir, "state") }, {}), acls: false }, db);
console.log(
  `store: ${db.query<{ n: number }, []>("SELECT count(*) AS n FROM datasets").get()!.n.toLocaleString()} datasets, ${db.query<{ n: number }, []>("SELECT count(*) AS n FROM tags").get()!.n.toLocaleString()} tags, ${db.query<{ n: number }, []>("SELECT count(*) AS n FROM tag_key_counts").get()!.n.toLocaleString()} distinct keys, ${db.query<{ n: number }, []>("SELECT count(*) AS n FROM tag_value_counts").get()!.n.toLocaleString()} distinct key=value pairs`,
);

// --- Suggestions -------------------------------------------------------------------------------------------------
const refKeys = db.query<{ key: string; n: number }, [string]>(
  "SELECT key, count(DISTINCT dataset_id) AS n FROM tags WHERE lower(key) LIKE ? GROUP BY key ORDER BY n DESC LIMIT 10",
);
const refValues = db.query<{ value: string; n: number }, [string, string]>(
  "SELECT value, count(DISTINCT dataset_id) AS n FROM tags WHERE lower(key) = ? AND lower(value) LIKE ? GROUP BY value ORDER BY n DESC LIMIT 10",
);
const Q = 2000;
const keyQueries = Array.from({ length: Q }, () => {
  const k = KEYS[zipf(KEYS.length)]!;
  const p = k.slice(0, 1 + Math.floor(rand() * Math.min(8, k.length)));
  return rand() < 0.3 ? typo(p) : p;
});
const valueQueries = Array.from({ length: Q }, () => {
  const ki = zipf(KEYS.length);
  const v = valueFor(ki);
  const p = v.slice(0, Math.floor(rand() * Math.min(7, v.length)));
  return { key: KEYS[ki]!, prefix: rand() < 0.3 ? typo(p) : p };
});
for (const q of keyQueries.slice(0, 50)) suggest(db, q, undefined); // warm the page cache
const oursKeys = keyQueries.map((q) => time(() => suggest(db, q, undefined, 10)));
const oursValues = valueQueries.map((q) => time(() => suggest(db, q.prefix, q.key, 10)));
const REF_Q = 40;
const refK = keyQueries.slice(0, REF_Q).map((q) => time(() => refKeys.all(q.toLowerCase() + "%")));
const refV = valueQueries.slice(0, REF_Q).map((q) => time(() => refValues.all(q.key.toLowerCase(), q.prefix.toLowerCase() + "%")));
console.log(`\nsuggestions (${Q} queries each, 30% with a typo; reference: ${REF_Q} queries, prefix only, no typos)`);
report("keys by prefix", oursKeys, refK);
report("values of a key by prefix", oursValues, refV);
const typoKeys = keyQueries.filter((q, i) => i % 3 === 0).map((q) => typo(q.length >= 3 ? q : q + "ab"));
report(
  "keys, every query with a typo",
  typoKeys.map((q) => time(() => suggest(db, q, undefined, 10))),
);

// --- The same through HTTP (session auth, JSON, and the "did you mean" check the key route adds) ----------------------
{
  const app = createApp(ctx);
  const s = createSession(ctx, { name: "bench", isAdmin: true, groups: [] }, "bench");
  const h = { Cookie: `mata_session=${s.cookieValue}` };
  const httpKeys: number[] = [];
  for (const q of keyQueries.slice(0, 500))
    httpKeys.push(await timeAsync(async () => (await app.request(`/api/v1/tags/suggest?prefix=${encodeURIComponent(q)}`, { headers: h })).text()));
  const httpValues: number[] = [];
  for (const q of valueQueries.slice(0, 500))
    httpValues.push(
      await timeAsync(async () =>
        (await app.request(`/api/v1/tags/suggest?key=${encodeURIComponent(q.key)}&prefix=${encodeURIComponent(q.prefix)}`, { headers: h })).text(),
      ),
    );
  report("GET /api/v1/tags/suggest keys (+did you mean)", httpKeys);
  report("GET /api/v1/tags/suggest values", httpValues);
}

// --- Dataset page with 200 tags --------------------------------------------------------------------------------------
const app = createApp(ctx);
const session = createSession(ctx, { name: "bench", isAdmin: true, groups: [] }, "bench");
const headers = { Cookie: `mata_session=${session.cookieValue}` };
const pageId = 1;
mkdirSync(path.join(ctx.config.root, db.query<{ path: string }, [number]>("SELECT path FROM datasets WHERE id = ?").get(pageId)!.path), { recursive: true });
const tree: TagNode[] = Array.from({ length: 40 }, (_, i) => ({
  key: KEYS[i]!,
  value: "",
  children: Array.from({ length: 4 }, (_, j) => ({ key: KEYS[100 + j]!, value: `${word(i * 4 + j)} <${j}>`, children: [] })),
}));
replaceTags(ctx, "bench", pageId, tree);
const fileIns = db.query("INSERT OR IGNORE INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, ?, 0)");
db.transaction(() => {
  for (let i = 0; i < 200; i++) fileIns.run(pageId, `slices/slice_${String(i).padStart(4, "0")}.tif`, 4_000_000 + i, 1_700_000_000_000 + i, i);
})();
const ROUNDS = 300;
for (let i = 0; i < 20; i++) await (await app.request(`/datasets/${pageId}`, { headers })).text();
const pageTimes: number[] = [];
const jsonTimes: number[] = [];
let bytes = 0;
for (let i = 0; i < ROUNDS; i++) {
  pageTimes.push(await timeAsync(async () => (bytes = (await (await app.request(`/datasets/${pageId}`, { headers })).text()).length)));
  jsonTimes.push(await timeAsync(async () => (await app.request(`/api/v1/datasets/${pageId}`, { headers })).text()));
}
console.log(`\ndataset page, 200 tags (40 x 4) + 200 files, ${(bytes / 1024).toFixed(0)} KiB of HTML, ${ROUNDS} requests through the app (auth included)`);
report("GET /datasets/{id} (HTML)", pageTimes, jsonTimes);
console.log("  (reference here is the JSON detail of the same dataset: the ratio is the cost of the HTML, not a speed-up)");

// --- Dataset list --------------------------------------------------------------------------------------------------
const listOurs: number[] = [];
const listRef: number[] = [];
const refPage = db.query(
  "SELECT id, path, title, owner, state, file_count, byte_count, updated_at FROM datasets ORDER BY title COLLATE NOCASE, id LIMIT 50 OFFSET ?",
);
const refCount = db.query("SELECT count(*) FROM datasets");
let url: string | null = "/datasets?sort=title";
for (let i = 0; i < 100 && url; i++) {
  let html = "";
  listOurs.push(await timeAsync(async () => (html = await (await app.request(url!, { headers })).text())));
  const m = html.match(/<a href="([^"]+)" rel="next">/);
  url = m ? m[1]!.replace(/&amp;/g, "&") : null;
}
for (let i = 0; i < 100; i++) {
  const offset = Math.floor(rand() * (N - 50));
  listRef.push(time(() => (refPage.all(offset), refCount.get())));
}
console.log(`\ndataset list sorted by title, 50 per page, ${N.toLocaleString()} datasets`);
report("first 100 pages by Next links (HTML, ours)", listOurs, listRef);
const deep = await (async () => {
  const times: number[] = [];
  const ids = db.query<{ title: string; id: number }, [number]>("SELECT title, id FROM datasets ORDER BY title COLLATE NOCASE, id LIMIT 1 OFFSET ?");
  for (let i = 0; i < 50; i++) {
    const r = ids.get(Math.floor(rand() * (N - 100)))!;
    const cursor = Buffer.from(JSON.stringify([r.title, r.id])).toString("base64url");
    times.push(await timeAsync(async () => (await app.request(`/datasets?sort=title&after=${cursor}`, { headers })).text()));
  }
  return times;
})();
report("random deep pages by cursor (HTML, ours)", deep, listRef);
console.log("  (reference: LIMIT 50 OFFSET random + count(*), SQL only)");
db.close();
if (!keepDir) rmSync(dir, { recursive: true, force: true });
