// Where fixity is reported: `mata verify` (exit 1 on changed content, --json), the dataset's API and page for its
// readers, the admin list and page, and a verification queued by an editor.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { at } from "../sync/helpers.ts";

const REPO = path.join(import.meta.dir, "../..");
const ctx = testContext();
afterAll(() => ctx.cleanup());
const app = createApp(ctx);
const ds = path.join(ctx.config.root, "scan");

function verify(...args: string[]) {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", "verify", "--root", ctx.config.root, "--state", ctx.config.state, ...args], {
    cwd: REPO,
    env: { ...process.env, MATA_LOG: "error" },
  });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("mata verify checksums new files, then exits 1 naming a file whose content changed under the same size and mtime", async () => {
  mkdirSync(path.join(ds, "sub"), { recursive: true });
  writeFileSync(path.join(ds, "sub", "slice.raw"), "original bytes");
  writeFileSync(path.join(ds, "other.raw"), "other");
  await reconcileAll(ctx);
  const first = verify();
  expect(first.err).toBe("");
  expect(first.out).toContain("scan: 0 matched, 2 checksummed for the first time, 0 skipped, 0 changed");
  expect(first.code).toBe(0);
  expect(verify("scan").out).toContain("scan: 2 matched");

  const file = path.join(ds, "sub", "slice.raw");
  const st = statSync(file);
  writeFileSync(file, "ORIGINAL BYTES");
  utimesSync(file, st.atime, st.mtime);
  const second = verify(String(at(ctx, "scan").id), "--json");
  expect(second.code).toBe(1);
  const report = JSON.parse(second.out);
  expect(report.mismatches).toBe(1);
  expect(report.datasets[0].mismatches[0]).toMatchObject({ path: "sub/slice.raw", size: 14 });
  const text = verify();
  expect(text.code).toBe(1);
  expect(text.out).toMatch(/CHANGED scan\/sub\/slice\.raw: recorded [0-9a-f]{64}, now [0-9a-f]{64}/);
  expect(verify("no/such").err).toContain('no dataset "no/such" on the share');
}, 60_000);

test("the dataset's readers see its fixity in the API and on its page; the list across datasets is for admins", async () => {
  const id = at(ctx, "scan").id;
  ctx.db.query("UPDATE datasets SET owner = 'ann' WHERE id = ?").run(id);
  const ann = withUser(ctx, "ann");
  const bob = withUser(ctx, "bob");
  const admin = withUser(ctx, "root-admin", { admin: true });

  const own = await app.request(`/api/v1/datasets/${id}/fixity`, { headers: ann.headers });
  expect(own.status).toBe(200);
  expect(await own.json()).toMatchObject({ files: 2, hashed: 2, mismatches: [{ path: "sub/slice.raw" }] });
  expect((await app.request(`/api/v1/datasets/${id}/fixity`, { headers: bob.headers })).status).toBe(403);
  const page = await (await app.request(`/datasets/${id}`, { headers: ann.headers })).text();
  expect(page).toContain("2 of 2 files checksummed (SHA-256)");
  expect(page).toContain("1 file changed while size and time did not");
  expect(page).toContain("sub/slice.raw");

  expect((await app.request("/api/v1/fixity", { headers: ann.headers })).status).toBe(403);
  const all = await (await app.request("/api/v1/fixity", { headers: admin.headers })).json();
  expect(all).toMatchObject({ total: 1, items: [{ datasetId: id, datasetPath: "scan", path: "sub/slice.raw" }] });
  const adminPage = await (await app.request("/fixity", { headers: admin.headers })).text();
  expect(adminPage).toContain('data-fixity="mismatch"');
  expect(adminPage).toContain("sub/slice.raw");

  const queued = await app.request(`/api/v1/datasets/${id}/fixity/verify`, { method: "POST", headers: ann.headers });
  expect(queued.status).toBe(202);
  const { job } = (await queued.json()) as { job: number };
  expect(ctx.db.query<{ kind: string; payload: string }, [number]>("SELECT kind, payload FROM jobs WHERE id = ?").get(job)).toEqual({
    kind: "fixity",
    payload: JSON.stringify({ verify: true }),
  });
  expect((await app.request(`/api/v1/datasets/${id}/fixity/verify`, { method: "POST", headers: bob.headers })).status).toBe(403);
});
