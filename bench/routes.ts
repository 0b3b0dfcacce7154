// Route cost through the whole app (session auth, access check, validation, handler, JSON or HTML): p50/p95 of the
// dataset list, a dataset's detail, the dataset page, search and tag suggestions on a generated store. It uses only
// interfaces older revisions have too, so bench/compare-revisions.sh can run it on both sides of a refactor.
//
//   bun bench/routes.ts [--datasets 5000] [--rounds 400]
import { parseArgs } from "node:util";
import { createApp } from "../src/app.ts";
import { refreshSearchIndex } from "../src/search/search.service.ts";
import { replaceTags } from "../src/tags/tags.service.ts";
import { testContext } from "../test/support/env.ts";
import { withUser } from "../test/support/auth.ts";
import { addDataset, addFile } from "../test/metadata/support.ts";

const { values } = parseArgs({ options: { datasets: { type: "string", default: "5000" }, rounds: { type: "string", default: "400" } } });
const N = Number(values.datasets);
const ROUNDS = Number(values.rounds);
const WORDS = ["lung", "knee", "heart", "sheep", "mouse", "biopsy", "scan", "segmentation", "fusion", "micro-CT", "histology", "femur"];
const SPECIES = ["sheep", "mouse", "human", "rat", "pig"];

const ctx = testContext();
let seed = 42;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
ctx.db.transaction(() => {
  for (let i = 0; i < N; i++) {
    const id = addDataset(ctx, {
      path: `ds-${String(i).padStart(6, "0")}`,
      title: `${WORDS[rnd(12)]} ${WORDS[rnd(12)]} ${i}`,
      description: `${WORDS[rnd(12)]} study`,
      owner: "alice",
    });
    const tags = [
      { key: "Species", value: SPECIES[rnd(5)]!, children: [] },
      { key: "Scan", value: "", children: [{ key: "Voltage", value: `${60 + rnd(60)} kV`, children: [] }] },
    ];
    replaceTags(ctx, "bench", id, tags);
  }
})();
const page = addDataset(ctx, { path: "the-page", title: "Dataset page", owner: "alice" });
replaceTags(
  ctx,
  "bench",
  page,
  Array.from({ length: 40 }, (_, i) => ({
    key: `Key ${i}`,
    value: `value ${i}`,
    children: Array.from({ length: 4 }, (_, j) => ({ key: `Sub ${j}`, value: `v${i}.${j}`, children: [] })),
  })),
);
for (let i = 0; i < 200; i++) addFile(ctx, page, `slices/slice_${String(i).padStart(4, "0")}.tif`, 4_000_000 + i, 1_700_000_000_000 + i);
refreshSearchIndex(ctx);

const app = createApp(ctx);
const { headers } = withUser(ctx, "alice", { admin: true });
const ROUTES: [string, string][] = [
  ["dataset list (JSON)", "/api/v1/datasets?limit=50&sort=title"],
  ["dataset detail (JSON)", `/api/v1/datasets/${page}`],
  ["dataset page (HTML)", `/datasets/${page}`],
  ["search: words (JSON)", "/api/v1/search?q=lung+sheep"],
  ["search: tag filter (JSON)", "/api/v1/search?q=scan&tag=Species%3Dmouse"],
  ["tag suggestions (JSON)", "/api/v1/tags/suggest?prefix=Sp"],
];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
console.log(`${N.toLocaleString("en-US")} datasets, ${ROUNDS} requests per route, interleaved`);
const times = new Map<string, number[]>(ROUTES.map(([name]) => [name, []]));
for (const [, url] of ROUTES) for (let i = 0; i < 20; i++) await (await app.request(url, { headers })).arrayBuffer();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, url] of ROUTES) {
    const t0 = performance.now();
    const res = await app.request(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    times.get(name)!.push(performance.now() - t0);
  }
}
for (const [name, xs] of times) console.log(`route ${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(2)} ms  p95 ${pct(xs, 95).toFixed(2)} ms`);
ctx.cleanup();
