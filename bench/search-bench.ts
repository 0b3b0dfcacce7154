// Search, tag cloud and relation graph at 100,000 datasets with 20 tags each (2,000,000 tag rows, Zipf-distributed).
// Usage: bun bench/search-bench.ts [--datasets N] [--keep DIR]
// Ours (FTS5 + trigram indexes, count tables, bounded CTE walks) and a reference (the straightforward SQL: LIKE scans
// with counting, GROUP BY at request time, one query per node) run on the same generated store; p50/p95 and the ratio.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../src/db/database.ts";
import type { AppContext } from "../src/context.ts";
import { contextOver } from "../src/services.ts";
import { loadConfig } from "../src/config.ts";
import { hashParts } from "../src/tags/tag-hash.ts";
import { refreshSearchIndex, search } from "../src/search/search.service.ts";
import { resolveTag, tagCloud, tagPage } from "../src/search/cloud.service.ts";
import { relationGraph } from "../src/graph/graph.service.ts";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--datasets") + 1] ?? 0) || 100_000;
const keepDir = args.includes("--keep") ? args[args.indexOf("--keep") + 1]! : null;
const dir = keepDir ?? path.join(tmpdir(), `mata-search-bench-${N}`);
const dbFile = path.join(dir, "mata.db");

function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
/** Zipf(1) over n ranks by inverse transform on the harmonic CDF (approximate, fast). */
function zipf(n: number): number {
  const hn = Math.log(n) + 0.5772;
  const u = rand() * hn;
  return Math.min(n - 1, Math.max(0, Math.floor(Math.exp(u - 0.5772)) - 1));
}
const SYL = [
  "lu",
  "ng",
  "bi",
  "op",
  "sy",
  "mi",
  "cro",
  "ct",
  "sca",
  "hea",
  "rt",
  "she",
  "ep",
  "fib",
  "ro",
  "sis",
  "tis",
  "sue",
  "ax",
  "ial",
  "den",
  "ta",
  "por",
  "ve",
  "cor",
  "tex",
  "no",
  "dal",
  "ste",
  "ma",
];
const words = Array.from({ length: 5000 }, (_, i) => {
  let w = "";
  let x = i + 7;
  do {
    w += SYL[x % SYL.length];
    x = Math.floor(x / SYL.length);
  } while (x > 0);
  return w + (i % 7 === 0 ? "um" : "");
});
const keys = Array.from({ length: 300 }, (_, i) => `${words[i * 3]![0]!.toUpperCase()}${words[i * 3]!.slice(1)}`);
const sentence = (n: number) => Array.from({ length: n }, () => words[zipf(words.length)]).join(" ");

function build(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(dbFile);
  const t0 = performance.now();
  const insDs = db.query<{ id: number }, [string, string, string, string, string, number, number, number]>(
    "INSERT INTO datasets (uid, path, title, description, owner, byte_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const insTag = db.query<{ id: number }, [number, number | null, number, string, string, string]>(
    "INSERT INTO tags (dataset_id, parent_id, position, key, value, subtree_hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
  );
  const insRel = db.query("INSERT OR IGNORE INTO relations (child_id, parent_id, position) VALUES (?, ?, ?)");
  const owners = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
  const batch = 5000;
  for (let start = 0; start < N; start += batch) {
    db.transaction(() => {
      for (let i = start; i < Math.min(N, start + batch); i++) {
        const when = Date.UTC(2018, 0, 1) + Math.floor(rand() * 8 * 365) * 86_400_000;
        const id = insDs.get(`b${i}`, `ds-${i}`, sentence(4), sentence(20), owners[zipf(owners.length)]!, Math.floor(rand() * 5e10), when, when)!.id;
        // 20 tag rows: 15 top-level pairs, the first of which has 5 children (a "Patient"-like subtree).
        const kids = Array.from({ length: 5 }, () => [keys[zipf(keys.length)]!, words[zipf(1000)]!] as const);
        const kidHashes = kids.map(([k, v]) => hashParts(k, v, []));
        for (let p = 0; p < 15; p++) {
          const k = keys[zipf(keys.length)]!;
          const v = words[zipf(2000)]!;
          const top = insTag.get(id, null, p, k, v, hashParts(k, v, p === 0 ? kidHashes : []))!.id;
          if (p === 0) kids.forEach(([ck, cv], j) => insTag.get(id, top, j, ck, cv, kidHashes[j]!));
        }
      }
    })();
  }
  // A 1,000-dataset relation component with diamonds and fusions (ids 1..1000), the rest mostly unrelated.
  db.transaction(() => {
    for (let i = 2; i <= 1000; i++) {
      insRel.run(i, 1 + Math.floor(rand() * (i - 1)), 0);
      if (i % 5 === 0) insRel.run(i, 1 + Math.floor(rand() * (i - 1)), 1);
    }
  })();
  const t1 = performance.now();
  const ctx = contextOf(db);
  refreshSearchIndex(ctx);
  const t2 = performance.now();
  console.log(
    `generated ${N} datasets, ${db.query<{ n: number }, []>("SELECT count(*) AS n FROM tags").get()!.n} tag rows in ${((t1 - t0) / 1000).toFixed(1)} s; index build ${((t2 - t1) / 1000).toFixed(1)} s`,
  );
  db.close();
}

function contextOf(db: ReturnType<typeof openDatabase>): AppContext {
  return contextOver(loadConfig({ root: dir, state: dir }, {}), db);
}

function stats(times: number[]): { p50: number; p95: number } {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p95: at(0.95) };
}
function time<T>(f: () => T): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

if (!existsSync(dbFile)) build();
const db = openDatabase(dbFile);
const ctx = contextOf(db);
refreshSearchIndex(ctx);
const mb = (db.query<{ n: number }, []>("SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()").get()!.n / 1e6).toFixed(0);
console.log(`store: ${dbFile} (${mb} MB), ${N} datasets`);

const Q = 40;
const phrases = Array.from({ length: Q }, (_, i) => {
  const d = db
    .query<{ description: string }, [number]>("SELECT description FROM datasets WHERE id = ?")
    .get(1 + ((i * 2477) % N))!
    .description.split(" ");
  const at = i % 18;
  return `"${d[at]} ${d[at + 1]}"`;
});
const prefixes = Array.from({ length: Q }, (_, i) => `${words[(i * 37) % 3000]!.slice(0, 3)}*`);
const filters = Array.from({ length: Q }, (_, i) => `${keys[i % 20]}=${words[i % 30]} ${words[(i * 13) % 500]}`);
const commonWord = words[0]!;
const rows: string[][] = [];
function report(name: string, ours: number[], ref: number[] | null, target: number) {
  const o = stats(ours);
  const r = ref ? stats(ref) : null;
  rows.push([
    name,
    o.p50.toFixed(1),
    o.p95.toFixed(1),
    r ? r.p95.toFixed(1) : "-",
    r ? `${(r.p95 / o.p95).toFixed(1)}x` : "-",
    `${target}`,
    o.p95 <= target ? "ok" : "OVER",
  ]);
}

// Warm the page cache once.
search(ctx, { q: phrases[0]!, filters: {}, limit: 20, offset: 0 });

const ourSearch = (q: string) => time(() => search(ctx, { q, filters: {}, limit: 20, offset: 0 }));
// Reference: what a first version would do, a scan of every document counting occurrences (the paper's basic search).
const refScan = db.query<{ id: number }, [string, string, string]>(
  `SELECT dataset_id AS id,
          (length(lower(title || ' ' || description || ' ' || tags)) - length(replace(lower(title || ' ' || description || ' ' || tags), ?, ''))) / length(?) AS n
     FROM search_docs WHERE instr(lower(title || ' ' || description || ' ' || tags), ?) > 0 ORDER BY n DESC LIMIT 20`,
);
const refPhrase = (q: string) => {
  const p = q.replace(/"/g, "").toLowerCase();
  return time(() => refScan.all(p, p, p));
};
report("phrase (2 words)", phrases.map(ourSearch), phrases.slice(0, 10).map(refPhrase), 50);
report(
  `common word "${commonWord}"`,
  Array.from({ length: 10 }, () => ourSearch(commonWord)),
  [refPhrase(commonWord), refPhrase(commonWord)],
  50,
);
report(
  "prefix (3 letters*)",
  prefixes.map(ourSearch),
  prefixes.slice(0, 10).map((p) => refPhrase(p.replace("*", ""))),
  50,
);
report(
  "substring (*abc*)",
  prefixes.map((p) => ourSearch(`*${p.replace("*", "")}a*`)),
  null,
  50,
);
const refTag = db.query<{ id: number }, [string, string]>(
  "SELECT d.id FROM datasets d WHERE EXISTS (SELECT 1 FROM tags t WHERE t.dataset_id = d.id AND t.key = ? AND t.value = ?) LIMIT 20",
);
report(
  "filter key=value + word",
  filters.map(ourSearch),
  filters.slice(0, 10).map((f) => {
    const [k, v] = f.split(" ")[0]!.split("=");
    return time(() => refTag.all(k!, v!));
  }),
  50,
);
report(
  "filter only key=value",
  filters.map((f) => ourSearch(f.split(" ")[0]!)),
  null,
  50,
);

const refCloud = db.query("SELECT key, value, count(DISTINCT dataset_id) AS n FROM tags GROUP BY key, value ORDER BY lower(key), lower(value)");
const cloudTotal = tagCloud(ctx, { mode: "pairs", prefix: "", limit: 1, offset: 0 }).total;
report(
  `tag cloud page (5,000 of ${cloudTotal})`,
  Array.from({ length: 10 }, () => time(() => tagCloud(ctx, { mode: "pairs", prefix: "", limit: 5000, offset: 0 }))),
  null,
  100,
);
report(
  `tag cloud, all ${cloudTotal} pairs`,
  Array.from({ length: 5 }, () => time(() => tagCloud(ctx, { mode: "pairs", prefix: "", limit: 1_000_000, offset: 0 }))),
  Array.from({ length: 2 }, () => time(() => refCloud.all())),
  100,
);
report(
  "tag cloud, keys only",
  Array.from({ length: 10 }, () => time(() => tagCloud(ctx, { mode: "keys", prefix: "", limit: 5000, offset: 0 }))),
  null,
  100,
);

const commonPair = db
  .query<{ key: string; value: string; n: number }, []>("SELECT key, value, datasets AS n FROM tag_value_counts ORDER BY datasets DESC LIMIT 1")
  .get()!;
const commonHash = db
  .query<{ h: string }, [string, string]>("SELECT subtree_hash AS h FROM tags WHERE key = ? AND value = ? AND parent_id IS NULL LIMIT 1")
  .get(commonPair.key, commonPair.value)!.h;
report(
  `tag page of the most common subtree (${tagPage(ctx, commonHash, 1, 0).total} datasets)`,
  Array.from({ length: 10 }, () => time(() => tagPage(ctx, commonHash, 100, 0))),
  null,
  100,
);
report(
  `cloud link to the most common pair (${commonPair.n} datasets)`,
  Array.from({ length: 5 }, () => time(() => resolveTag(ctx, commonPair.key, commonPair.value))),
  null,
  100,
);

const parentsOf = db.query<{ id: number }, [number]>("SELECT parent_id AS id FROM relations WHERE child_id = ?");
const childrenOf = db.query<{ id: number }, [number]>("SELECT child_id AS id FROM relations WHERE parent_id = ?");
const refGraph = (start: number) =>
  time(() => {
    // One query per node, as a first recursive version does.
    const seen = new Set([start]);
    const queue = [start];
    while (queue.length) {
      const id = queue.shift()!;
      for (const r of [...parentsOf.all(id), ...childrenOf.all(id)]) if (!seen.has(r.id)) (seen.add(r.id), queue.push(r.id));
    }
  });
const g = relationGraph(ctx, 500, { limit: 1000, tags: false });
report(
  `graph, ${g.nodes.length} relatives`,
  Array.from({ length: 20 }, (_, i) => time(() => relationGraph(ctx, 1 + ((i * 97) % 1000), { limit: 1000, tags: false }))),
  Array.from({ length: 5 }, (_, i) => refGraph(1 + i * 100)),
  200,
);
report(
  "graph, 1,000 + tag overlay",
  Array.from({ length: 10 }, (_, i) => time(() => relationGraph(ctx, 1 + ((i * 97) % 1000), { limit: 1000, tags: true }))),
  null,
  200,
);
report(
  "graph, first step (150)",
  Array.from({ length: 20 }, (_, i) => time(() => relationGraph(ctx, 1 + ((i * 97) % 1000), { limit: 150, tags: true }))),
  null,
  200,
);

const head = ["query", "ours p50 ms", "ours p95 ms", "reference p95 ms", "reference/ours", "target ms", ""];
console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
db.close();
if (!keepDir && args.includes("--clean")) rmSync(dir, { recursive: true, force: true });
