// Names that are not UTF-8 (a Latin-1 folder from an old scanner PC) get the dataset's ACLs like any other: the tree
// walk and the named-path repair used to read names back as text, name nothing, and leave such a file readable to
// every account (other::r--) in a private dataset, its owner unchanged.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { aclIdle } from "../../src/access/acl.service.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { asUser, getfacl, unixUsers } from "./users.ts";

const people = unixUsers(["own", "vw", "ot"]);
const U = people.user;
const ctx = testContext({ acls: true, stableMs: 0, debounceMs: 0 });
const app = createApp(ctx);
let stopAccess: () => Promise<void>;
const dir = path.join(ctx.config.root, "scan");
const uid = (name: string) => Number(Bun.spawnSync(["id", "-u", name]).stdout.toString());
/** A path below the dataset folder with Latin-1 bytes in it ("é" is 0xe9). */
const latin1 = (...parts: (string | number)[]) =>
  Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => (typeof p === "number" ? Buffer.of(p) : Buffer.from(p)))]);

beforeAll(() => {
  stopAccess = startAccess(ctx);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "plain.tif"), "plain");
  mkdirSync(latin1("r", 0xe9, "sultats"));
  writeFileSync(latin1("r", 0xe9, "sultats/coupe-", 0xe9, ".tif"), "secret");
  for (const p of [dir, path.join(dir, "plain.tif"), latin1("r", 0xe9, "sultats"), latin1("r", 0xe9, "sultats/coupe-", 0xe9, ".tif")])
    chownSync(p, uid(U.own!), 0);
});
afterAll(async () => {
  await stopAccess();
  ctx.cleanup();
  people.remove();
});

async function reconcile(): Promise<void> {
  expect((await reconcileAll(ctx)).errors).toEqual([]);
  await aclIdle(ctx);
}

test("a grant reaches a Latin-1 folder and file: the viewer reads it, everyone else cannot", async () => {
  await reconcile();
  const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets WHERE path = 'scan'").get()!.id;
  const res = await app.request(`/api/v1/datasets/${id}/access`, {
    method: "PUT",
    headers: { ...withUser(ctx, U.own!).headers, "Content-Type": "application/json" },
    body: JSON.stringify({ viewers: [U.vw] }),
  });
  expect(res.status).toBe(200);
  // Shell globs name the files by their exact bytes, whatever their encoding.
  const facl = Bun.spawnSync(["sh", "-c", `getfacl -p --omit-header ${dir}/r*sultats/coupe-*.tif`]).stdout.toString();
  expect(facl).toContain(`user:${U.vw}:r--`);
  expect(facl).toContain("other::---");
  expect(getfacl(path.join(dir, "plain.tif"))).toContain("other::---");
  // By real accounts.
  expect(asUser(U.vw!, `cat ${dir}/r*sultats/coupe-*.tif`).out).toBe("secret");
  expect(asUser(U.ot!, `cat ${dir}/r*sultats/coupe-*.tif`).code).not.toBe(0);
});

test("a Latin-1 file arriving later is fixed by the named-path repair of the next sync pass", async () => {
  writeFileSync(latin1("r", 0xe9, "sultats/neu-", 0xfc, ".tif"), "new");
  chownSync(latin1("r", 0xe9, "sultats/neu-", 0xfc, ".tif"), uid(U.own!), 0);
  // As if copied in with its own permissions: readable to everyone.
  expect(Bun.spawnSync(["sh", "-c", `setfacl -b -m o::r ${dir}/r*sultats/neu-*.tif`]).exitCode).toBe(0);
  expect(asUser(U.ot!, `cat ${dir}/r*sultats/neu-*.tif`).out).toBe("new");
  await reconcile();
  expect(asUser(U.ot!, `cat ${dir}/r*sultats/neu-*.tif`).code).not.toBe(0);
  expect(asUser(U.vw!, `cat ${dir}/r*sultats/neu-*.tif`).out).toBe("new");
});
