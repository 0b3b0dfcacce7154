import { afterEach, expect, test } from "bun:test";
import { seedDemoRoot, DEMO_METADATA } from "../../src/demo/demo.ts";
import { demoMetadataListener } from "../../src/demo/demo.apply.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { datasetDetail } from "../../src/datasets/datasets.service.ts";
import { describeDataset } from "../../src/datasets/describe.service.ts";
import { datasetsRepo } from "../../src/datasets/datasets.repo.ts";
import { readMetadataMirror } from "../../src/sync/sidecar.ts";
import { testContext } from "../support/env.ts";
import path from "node:path";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

test("the demo datasets are described once scanned, and later edits are never overwritten", async () => {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  await seedDemoRoot(ctx.config.root);
  ctx.hooks.datasetSeen.push(demoMetadataListener(ctx));
  await reconcileAll(ctx);
  const repo = datasetsRepo(ctx.db);
  for (const [folder, meta] of Object.entries(DEMO_METADATA)) {
    const d = repo.byPath(folder)!;
    const detail = datasetDetail(ctx, d.id);
    expect(detail.title).toBe(meta.title);
    expect(detail.description).toBe(meta.description);
    expect(detail.tags).toEqual(meta.tags);
    expect(detail.parents).toEqual(meta.parents.map((p) => repo.byPath(p)!.id));
    // Mirrored into the sidecar, so `mata rebuild` keeps the description.
    expect(readMetadataMirror(path.join(ctx.config.root, folder))?.title).toBe(meta.title);
  }
  const ct = repo.byPath("lung-biopsy-CT-001")!;
  describeDataset(ctx, "alice", ct.id, { title: "Renamed by a person" });
  const events = ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()!.n;
  await reconcileAll(ctx);
  expect(repo.get(ct.id)!.title).toBe("Renamed by a person");
  expect(ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()!.n).toBe(events);
});

test("the demo gets an admin account with a random password kept in the state dir", async () => {
  const { ensureDemoAccount } = await import("../../src/demo/demo.account.ts");
  const { verifyPassword } = await import("../../src/auth/password.ts");
  const { accountsRepo } = await import("../../src/auth/auth.repo.ts");
  const { statSync } = await import("node:fs");
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const first = await ensureDemoAccount(ctx);
  expect(first.name).toBe("demo");
  expect(first.password).toMatch(/^[\w-]{16}$/);
  const row = accountsRepo(ctx.db).get("demo")!;
  expect(row.is_admin).toBe(1);
  expect(await verifyPassword(first.password!, row.password_hash!)).toBe(true);
  expect(statSync(path.join(ctx.config.state, "demo-password.txt")).mode & 0o777).toBe(0o600);
  expect(await ensureDemoAccount(ctx)).toEqual(first);
  const other = testContext();
  cleanups.push(other.cleanup);
  expect((await ensureDemoAccount(other)).password).not.toBe(first.password);
});
