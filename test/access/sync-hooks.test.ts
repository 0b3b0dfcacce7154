// ACLs driven by the real sync engine: a reconcile finds a folder (owner = its unix owner), its hooks
// make Mata write the ACLs, new folders made by an editor get theirs, and drift is repaired.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { aclIdle } from "../../src/access/acl.service.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { asUser, getfacl, unixUsers } from "./users.ts";

const people = unixUsers(["own", "ed", "ot"]);
const U = people.user;
const ctx = testContext({ acls: true, stableMs: 0, debounceMs: 0 });
const app = createApp(ctx);
let stopAccess: () => Promise<void>;
const dir = path.join(ctx.config.root, "scan");
const uid = (name: string) => Number(Bun.spawnSync(["id", "-u", name]).stdout.toString());

async function reconcile(): Promise<void> {
  await reconcileAll(ctx);
  await aclIdle(ctx);
}

beforeAll(async () => {
  stopAccess = startAccess(ctx);
  mkdirSync(path.join(dir, "img"), { recursive: true });
  writeFileSync(path.join(dir, "img/1.tif"), "pixels");
  for (const p of [dir, path.join(dir, "img"), path.join(dir, "img/1.tif")]) chownSync(p, uid(U.own!), 0);
});
afterAll(async () => {
  await stopAccess();
  ctx.cleanup();
  people.remove();
});

function datasetId(): number {
  return ctx.db.query<{ id: number }, []>("SELECT id FROM datasets WHERE path = 'scan'").get()!.id;
}

test("a reconcile finds the folder, takes its unix owner and writes list-only ACLs", async () => {
  await reconcile();
  const row = ctx.db.query<{ owner: string }, []>("SELECT owner FROM datasets WHERE path = 'scan'").get();
  expect(row?.owner).toBe(U.own!);
  expect(getfacl(path.join(dir, "img"))).toContain("other::r-x");
  expect(getfacl(path.join(dir, "img/1.tif"))).toContain("other::---");
  expect(asUser(U.ot!, `ls ${dir}/img`).out).toContain("1.tif");
  expect(asUser(U.ot!, `cat ${dir}/img/1.tif`).code).not.toBe(0);
  // The sidecar the sync engine wrote is the service's.
  expect(statSync(path.join(dir, ".mata")).uid).toBe(0);
  expect(asUser(U.own!, `touch ${dir}/.mata/x`).code).not.toBe(0);
});

test("an editor's new folder and file get the dataset's ACLs on the next sync pass", async () => {
  const res = await app.request(`/api/v1/datasets/${datasetId()}/access`, {
    method: "PUT",
    headers: { ...withUser(ctx, U.own!).headers, "Content-Type": "application/json" },
    body: JSON.stringify({ editors: [U.ed] }),
  });
  expect(res.status).toBe(200);
  expect(asUser(U.ed!, `mkdir ${dir}/run2 && echo data > ${dir}/run2/2.tif`).code).toBe(0);
  expect(asUser(U.ot!, `ls ${dir}/run2`).code).not.toBe(0);
  await reconcile();
  expect(asUser(U.ot!, `ls ${dir}/run2`).out).toContain("2.tif");
  expect(asUser(U.ot!, `cat ${dir}/run2/2.tif`).code).not.toBe(0);
  expect(statSync(path.join(dir, "run2/2.tif")).uid).toBe(uid(U.own!));
  expect(asUser(U.ed!, `cat ${dir}/run2/2.tif`).out).toBe("data\n");
});

test("drift made behind Mata's back is repaired by the next reconcile", async () => {
  chmodSync(path.join(dir, "img/1.tif"), 0o644);
  expect(asUser(U.ot!, `cat ${dir}/img/1.tif`).out).toBe("pixels");
  await reconcile();
  expect(asUser(U.ot!, `cat ${dir}/img/1.tif`).code).not.toBe(0);
  expect(asUser(U.ed!, `cat ${dir}/img/1.tif`).out).toBe("pixels");
});

test("`mata scan` on its own applies the same ACLs to files it finds", async () => {
  const sub = path.join(ctx.config.root, "by-scan");
  mkdirSync(sub);
  writeFileSync(path.join(sub, "slice.tif"), "pixels");
  for (const p of [sub, path.join(sub, "slice.tif")]) chownSync(p, uid(U.own!), 0);
  const cli = Bun.spawnSync(
    [process.execPath, path.resolve(import.meta.dir, "../../src/main.ts"), "scan", "--root", ctx.config.root, "--state", ctx.config.state],
    {
      cwd: path.resolve(import.meta.dir, "../.."),
      env: { ...process.env, MATA_ACLS: "true" },
    },
  );
  expect(cli.exitCode).toBe(0);
  expect(getfacl(path.join(sub, "slice.tif"))).toContain("other::---");
  expect(asUser(U.ot!, `cat ${sub}/slice.tif`).code).not.toBe(0);
});
