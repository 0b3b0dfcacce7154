// The share enforces the web's grants: a real smbd from the rendered appliance template, real unix
// users with Samba passwords, smbclient put/get/rename/delete across owner, editor, viewer and other.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { aclIdle } from "../../src/access/acl.service.ts";
import { renderAppliance, writeAppliance } from "../../src/access/appliance.service.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";
import { startSmbd, type Smbd } from "../support/smbd.ts";
import { setSharePassword } from "../../src/auth/share-password.ts";
import { unixUsers } from "./users.ts";

const people = unixUsers(["own", "ed", "vw", "ot"]);
const U = people.user;
const PW = (n: string) => `Pw-${n}-9z`;
const ctx = testContext({ acls: true });
const app = createApp(ctx);
let smbd: Smbd;
let stopAccess: () => Promise<void>;
let id = 0;

beforeAll(async () => {
  const rendered = path.join(ctx.dir, "appliance");
  writeAppliance(rendered, renderAppliance(ctx.config, { out: rendered, hostname: "matatest", shareName: "data" }));
  smbd = await startSmbd(path.join(ctx.dir, "smb"), path.join(rendered, "smb-mata.conf"));
  for (const n of Object.values(U)) smbd.addUser(n, PW(n));
  stopAccess = startAccess(ctx);
  id = putDataset(ctx, "scan", { "a.txt": "alpha\n", "img/1.tif": "pixels\n" }, { owner: U.own });
  const res = await share({ viewers: [U.vw], editors: [U.ed] });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await smbd?.stop();
  await stopAccess?.();
  ctx.cleanup();
  people.remove();
});

function share(body: unknown) {
  return app.request(`/api/v1/datasets/${id}/access`, {
    method: "PUT",
    headers: { ...withUser(ctx, U.own!).headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

const smb = (who: string, commands: string) => smbd.client("data", U[who]!, PW(U[who]!), commands);
const local = path.join(import.meta.dir, "users.ts"); // any small local file to upload

describe("permission matrix over SMB", () => {
  test("a wrong password is refused", () => {
    expect(smbd.client("data", U.own!, "wrong", "ls").ok).toBe(false);
  });

  test("owner: put, get, rename, delete", () => {
    const r = smb(
      "own",
      `put ${local} scan\\own.txt; rename scan\\own.txt scan\\own2.txt; get scan\\own2.txt /dev/null; del scan\\own2.txt; get scan\\a.txt /dev/null`,
    );
    expect(r).toMatchObject({ ok: true });
  });

  test("editor: put, get, rename, delete, and a new folder", () => {
    const r = smb(
      "ed",
      `put ${local} scan\\ed.txt; rename scan\\ed.txt scan\\ed2.txt; get scan\\ed2.txt /dev/null; del scan\\ed2.txt; mkdir scan\\edsub; put ${local} scan\\edsub\\x.txt; get scan\\img\\1.tif /dev/null`,
    );
    expect(r).toMatchObject({ ok: true });
  });

  test("viewer: get only", () => {
    expect(smb("vw", "get scan\\a.txt /dev/null; ls scan\\img\\*").ok).toBe(true);
    for (const cmd of [`put ${local} scan\\vw.txt`, "rename scan\\a.txt scan\\b.txt", "del scan\\a.txt", "mkdir scan\\vwsub"]) {
      const r = smb("vw", cmd);
      expect({ cmd, ok: r.ok }).toEqual({ cmd, ok: false });
      expect(r.out).toMatch(/NT_STATUS_ACCESS_DENIED|NT_STATUS_/);
    }
  });

  test("other: lists the dataset and its folders, opens nothing, writes nothing", () => {
    const list = smb("ot", "ls scan\\*; ls scan\\img\\*");
    expect(list.ok).toBe(true);
    expect(list.out).toContain("a.txt");
    expect(list.out).toContain("1.tif");
    for (const cmd of [
      "get scan\\a.txt /dev/null",
      "get scan\\img\\1.tif /dev/null",
      `put ${local} scan\\ot.txt`,
      "del scan\\a.txt",
      "rename scan\\a.txt scan\\z.txt",
    ]) {
      expect({ cmd, ok: smb("ot", cmd).ok }).toEqual({ cmd, ok: false });
    }
  });

  test("a folder made over SMB is listable by others once the sync engine reports it", async () => {
    for (const l of ctx.hooks.contentChanged) l({ datasetId: id, path: "scan", generation: 2, changed: ["edsub/x.txt"], removed: [] });
    await aclIdle(ctx);
    expect(smb("ot", "ls scan\\edsub\\*").out).toContain("x.txt");
    expect(smb("vw", "get scan\\edsub\\x.txt /dev/null").ok).toBe(true);
    expect(smb("ot", "get scan\\edsub\\x.txt /dev/null").ok).toBe(false);
  });
});

describe("a grant changed on the web", () => {
  test("is enforced on the share by the time the web answers", async () => {
    expect(smb("ot", "get scan\\a.txt /dev/null").ok).toBe(false);
    expect((await share({ viewers: [U.vw, U.ot], editors: [U.ed] })).status).toBe(200);
    expect(smb("ot", "get scan\\a.txt /dev/null").ok).toBe(true);
    expect(smb("ot", `put ${local} scan\\ot.txt`).ok).toBe(false);
    // Promoted to editor: writes at once; removed: nothing but the listing.
    expect((await share({ viewers: [U.vw], editors: [U.ed, U.ot] })).status).toBe(200);
    expect(smb("ot", `put ${local} scan\\ot.txt; del scan\\ot.txt`).ok).toBe(true);
    expect((await share({ viewers: [], editors: [U.ed] })).status).toBe(200);
    expect(smb("ot", "get scan\\a.txt /dev/null").ok).toBe(false);
    expect(smb("vw", "get scan\\a.txt /dev/null").ok).toBe(false);
    expect(smb("vw", "ls scan\\*").out).toContain("a.txt");
  });
});

describe("one password for both doors", () => {
  test("a password changed through Mata opens the share at once; the old one no longer does", async () => {
    await setSharePassword(U.vw!, "Changed-pw-77", smbd.conf);
    expect(smbd.client("data", U.vw!, "Changed-pw-77", "ls scan\\*").ok).toBe(true);
    expect(smbd.client("data", U.vw!, PW(U.vw!), "ls scan\\*").ok).toBe(false);
  });
});
