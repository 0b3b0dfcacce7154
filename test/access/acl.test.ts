// Grants written to a real folder tree as POSIX ACLs, checked with getfacl and by real users' access.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { aclIdle, repairDrift } from "../../src/access/acl.service.ts";
import { decodeAcl, encodeAcl, formatAcl } from "../../src/access/acl.codec.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { addToGroup, asUser, getfacl, unixUsers } from "./users.ts";

const people = unixUsers(["own", "ed", "vw", "gm", "ot"], ["lab"]);
const U = people.user;
const ctx = testContext({ acls: true });
const app = createApp(ctx);
let stopAccess: () => Promise<void>;
let id = 0;
let dir = "";

beforeAll(() => {
  addToGroup(U.gm!, people.group.lab!);
  chmodSync(ctx.config.root, 0o755);
  stopAccess = startAccess(ctx);
  id = putDataset(ctx, "scan1", { "img/1.tif": "pixels", "notes.txt": "n", ".mata/identity.json": '{"uid":"x"}' }, { owner: U.own });
  dir = path.join(ctx.config.root, "scan1");
});
afterAll(async () => {
  await stopAccess();
  ctx.cleanup();
  people.remove();
});

const share = (who: string, body: unknown) =>
  app.request(`/api/v1/datasets/${id}/access`, {
    method: "PUT",
    headers: { ...withUser(ctx, who).headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("ACL codec", () => {
  test("round-trips and orders named entries as the kernel wants", () => {
    const acl = {
      user: 7,
      group: 0,
      other: 5,
      users: new Map([
        [2000, 5],
        [1001, 7],
      ]),
      groups: new Map([[100, 5]]),
    };
    const back = decodeAcl(encodeAcl(acl));
    expect(formatAcl(back)).toBe("u::rwx,u:1001:rwx,u:2000:r-x,g::---,g:100:r-x,m::rwx,o::r-x");
    expect(() => decodeAcl(new Uint8Array([1, 0, 0, 0]))).toThrow(/version 1/);
  });
});

describe("grants on the folder tree", () => {
  test("a grant through the API is on the tree when the answer arrives", async () => {
    const res = await share(U.own!, { viewers: [U.vw, `@${people.group.lab}`], editors: [U.ed] });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.acl).toMatchObject({ enabled: true, error: null });
    const d = getfacl(path.join(dir, "img"));
    expect(d).toContain(`user:${U.ed}:rwx`);
    expect(d).toContain(`user:${U.vw}:r-x`);
    expect(d).toContain(`group:${people.group.lab}:r-x`);
    expect(d).toContain("other::r-x");
    expect(d).toContain("group::r-x");
    expect(d).toContain(`default:user:${U.vw}:r-x`);
    expect(d).toContain("default:other::---");
    const f = getfacl(path.join(dir, "img/1.tif"));
    expect(f).toContain(`user:${U.vw}:r--`);
    expect(f).toContain(`user:${U.ed}:rw-`);
    expect(f).toContain("other::---");
    expect(f).not.toContain("default:");
    // Everything belongs to the dataset owner, so the unix owner and datasets.owner agree.
    expect(statSync(path.join(dir, "img/1.tif")).uid).toBe(Number(Bun.spawnSync(["id", "-u", U.own!]).stdout.toString()));
  });

  test("real users: owner and editors write, viewers and group members read, others only list", () => {
    const f = path.join(dir, "img/1.tif");
    expect(asUser(U.vw!, `cat ${f}`).out).toBe("pixels");
    expect(asUser(U.gm!, `cat ${f}`).out).toBe("pixels");
    expect(asUser(U.vw!, `echo x >> ${f}`).code).not.toBe(0);
    expect(asUser(U.ed!, `echo more >> ${f}`).code).toBe(0);
    expect(asUser(U.own!, `touch ${dir}/img/by-owner`).code).toBe(0);
    const other = asUser(U.ot!, `ls ${dir}/img`);
    expect(other.code).toBe(0);
    expect(other.out).toContain("1.tif");
    expect(asUser(U.ot!, `cat ${f}`).code).not.toBe(0);
    expect(asUser(U.ot!, `touch ${dir}/img/intruder`).code).not.toBe(0);
  });

  test("the sidecar stays the service's: readable, not writable by editors, no default ACL", () => {
    const mata = path.join(dir, ".mata");
    expect(statSync(mata).uid).toBe(0);
    expect(getfacl(mata)).not.toContain("default:");
    expect(asUser(U.ed!, `echo '{"uid":"forged"}' > ${mata}/identity.json`).code).not.toBe(0);
    expect(asUser(U.ed!, `touch ${mata}/grants.json`).code).not.toBe(0);
    expect(asUser(U.vw!, `cat ${mata}/identity.json`).code).toBe(0);
    writeFileSync(path.join(mata, "metadata.json"), "{}"); // the service (root) still writes
  });

  test("a folder made by an editor (as over SMB) gets o::r-x and the owner at once via contentChanged", async () => {
    expect(asUser(U.ed!, `mkdir ${dir}/new && echo fresh > ${dir}/new/f.txt`).code).toBe(0);
    // The default ACL cannot give folders o::r-x: before the hook, others cannot enter the new folder.
    expect(getfacl(path.join(dir, "new"))).toContain("other::---");
    for (const l of ctx.hooks.contentChanged) l({ datasetId: id, path: "scan1", generation: 2, changed: ["new/f.txt"], removed: [] });
    await aclIdle(ctx);
    expect(getfacl(path.join(dir, "new"))).toContain("other::r-x");
    expect(asUser(U.ot!, `ls ${dir}/new`).out).toContain("f.txt");
    expect(asUser(U.vw!, `cat ${dir}/new/f.txt`).out).toBe("fresh\n");
    expect(asUser(U.ot!, `cat ${dir}/new/f.txt`).code).not.toBe(0);
  });

  test("drift is found and repaired by the reconcile; an untouched tree needs no write", async () => {
    // The file the owner made directly (no hook told us) is fixed once, then the tree is clean.
    expect(await repairDrift(ctx, id)).toBeGreaterThanOrEqual(1);
    expect(await repairDrift(ctx, id)).toBe(0);
    const f = path.join(dir, "notes.txt");
    chmodSync(f, 0o666); // someone opened the file to everyone
    Bun.spawnSync(["setfacl", "-x", `user:${U.vw}`, path.join(dir, "img")]);
    mkdirSync(path.join(dir, "img/made-by-root"));
    expect(asUser(U.ot!, `cat ${f}`).code).toBe(0);
    // The reconcile's walk sees the newer inode changes and hands them to the drift check.
    await reconcileAll(ctx);
    await aclIdle(ctx);
    expect(asUser(U.ot!, `cat ${f}`).code).not.toBe(0);
    expect(getfacl(path.join(dir, "img"))).toContain(`user:${U.vw}:r-x`);
    expect(getfacl(path.join(dir, "img/made-by-root"))).toContain("other::r-x");
    expect(await repairDrift(ctx, id)).toBe(0);
    // Nothing changed since: the reconcile's own walk tells the drift check so, and it does not walk the tree again.
    const checkedAt = () => ctx.db.query<{ applied_at: number }, [number]>("SELECT applied_at FROM acl_state WHERE dataset_id = ?").get(id)!.applied_at;
    const before = checkedAt();
    await Bun.sleep(5);
    await reconcileAll(ctx);
    await aclIdle(ctx);
    expect(checkedAt()).toBe(before);
    // A change after it is seen by that walk, and checked.
    chmodSync(f, 0o640);
    await reconcileAll(ctx);
    await aclIdle(ctx);
    expect(checkedAt()).toBeGreaterThan(before);
  });

  test("a revoked grant is gone from the tree", async () => {
    expect((await share(U.own!, { viewers: [], editors: [U.ed] })).status).toBe(200);
    expect(getfacl(path.join(dir, "img"))).not.toContain(U.vw!);
    expect(asUser(U.vw!, `cat ${dir}/img/1.tif`).code).not.toBe(0);
    expect(asUser(U.gm!, `cat ${dir}/img/1.tif`).code).not.toBe(0);
  });

  test("a grant to a web-only account is kept and reported, not written", async () => {
    withUser(ctx, "webonly_person");
    const res = await share(U.own!, { viewers: ["webonly_person"], editors: [U.ed] });
    expect(res.status).toBe(200);
    expect((await res.json()).acl.error).toMatch(/no unix account for webonly_person/);
  });
});

describe("acls off", () => {
  test("config.acls false writes nothing to the tree", async () => {
    const off = testContext({ acls: false });
    try {
      const offApp = createApp(off);
      const ds = putDataset(off, "plain", { "p.txt": "p" }, { owner: U.own });
      const before = getfacl(path.join(off.config.root, "plain"));
      const res = await offApp.request(`/api/v1/datasets/${ds}/access`, {
        method: "PUT",
        headers: { ...withUser(off, U.own!).headers, "Content-Type": "application/json" },
        body: JSON.stringify({ viewers: [U.vw] }),
      });
      expect(res.status).toBe(200);
      expect(getfacl(path.join(off.config.root, "plain"))).toBe(before);
      expect(existsSync(path.join(off.config.root, "plain/p.txt"))).toBe(true);
    } finally {
      off.cleanup();
    }
  });
});
