// Job lists leak command output: a rule command's stderr (which may quote file content) is kept as the job's
// error. Admins see every job; anyone else sees only the jobs of datasets they may read, through the dataset's own
// list. Real rule commands run by the real queue write the errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";

const ctx = testContext({
  rules: [{ glob: "**/*.csv", command: ["sh", "-c", 'head -c 40 "$1" >&2; exit 3', "rule"], timeoutSeconds: 10 }],
});
const app = createApp(ctx);
const ids = { a: 0, b: 0 };
let stop: () => Promise<void> = async () => {};

beforeAll(async () => {
  ids.a = addDataset(ctx, "ann-private");
  ids.b = addDataset(ctx, "bob-own");
  ctx.db.query("UPDATE datasets SET owner = ? WHERE id = ?").run("ann", ids.a);
  ctx.db.query("UPDATE datasets SET owner = ? WHERE id = ?").run("bob", ids.b);
  ctx.db.query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, 'user:vic', 'viewer')").run(ids.a);
  writeFileSync(path.join(ctx.config.root, "ann-private", "patients.csv"), "PATIENT Jane Roe, DOB 1961-02-03\n");
  writeFileSync(path.join(ctx.config.root, "bob-own", "table.csv"), "bob's own numbers\n");
  stop = await startJobs(ctx, { settleMs: 10 });
  commitChange(ctx, ids.a);
  commitChange(ctx, ids.b);
  const failed = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE kind = 'command' AND state = 'failed'").get()!.n;
  await waitFor("both commands failed", () => failed() === 2, 30_000);
});
afterAll(async () => {
  await stop();
  ctx.cleanup();
});

type Jobs = { items: { datasetId: number | null; error: string | null }[] };
const get = (url: string, who: string, admin = false) => app.request(url, { headers: withUser(ctx, who, { admin }).headers });

test("another signed-in user reads neither the jobs page nor the job API (403), so not Ann's command stderr", async () => {
  for (const url of ["/api/v1/jobs", "/jobs", "/jobs/table", `/api/v1/jobs?dataset=${ids.a}`]) {
    const res = await get(url, "bob");
    expect({ url, status: res.status }).toEqual({ url, status: 403 });
    expect(await res.text()).not.toContain("Jane Roe");
  }
});

test("a dataset's readers list its own jobs with their errors; others get 403 for it", async () => {
  const own = await get(`/api/v1/datasets/${ids.b}/jobs`, "bob");
  expect(own.status).toBe(200);
  const body = (await own.json()) as Jobs;
  expect(body.items.length).toBeGreaterThan(0);
  expect(body.items.every((j) => j.datasetId === ids.b)).toBe(true);
  expect(body.items.map((j) => j.error).join("\n")).toContain("bob's own numbers");

  const other = await get(`/api/v1/datasets/${ids.a}/jobs`, "bob");
  expect(other.status).toBe(403);
  expect(await other.text()).not.toContain("Jane Roe");

  const viewer = (await (await get(`/api/v1/datasets/${ids.a}/jobs?state=failed`, "vic")).json()) as Jobs;
  expect(viewer.items.map((j) => j.datasetId)).toEqual([ids.a]);
  expect(viewer.items[0]!.error).toContain("Jane Roe");
  // No filter reaches past the dataset in the path.
  const sneaky = (await (await get(`/api/v1/datasets/${ids.b}/jobs?dataset=${ids.a}`, "bob")).json()) as Jobs;
  expect(sneaky.items.every((j) => j.datasetId === ids.b)).toBe(true);
});

test("admins list every dataset's jobs", async () => {
  const all = (await (await get("/api/v1/jobs?kind=command", "root", true)).json()) as Jobs;
  expect(new Set(all.items.map((j) => j.datasetId))).toEqual(new Set([ids.a, ids.b]));
  expect((await get(`/api/v1/datasets/${ids.a}/jobs`, "root", true)).status).toBe(200);
  expect((await get("/jobs", "root", true)).status).toBe(200);
});
