// Losing the database loses nothing a user sees: `mata rebuild` (the real command) brings back every present
// dataset with its id, path, owner, title, description, tags, parents, children, files and grants, the grants
// read from the share's own ACLs. It refuses while a server holds the state dir.
import { afterAll, expect, test } from "bun:test";
import { chownSync, cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import type { AppContext } from "../../src/context.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { aclIdle } from "../../src/access/acl.service.ts";
import { openDatabase } from "../../src/db/database.ts";
import { contextOver } from "../../src/services.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { unixUsers } from "./users.ts";

const people = unixUsers(["own", "two", "vw", "ed"], ["lab"]);
const U = people.user;
const ctx = testContext({ acls: true });
afterAll(() => {
  ctx.cleanup();
  people.remove();
});

function uidOf(name: string): number {
  return Number(Bun.spawnSync(["id", "-u", name], { stdout: "pipe" }).stdout.toString().trim());
}

/** A dataset folder copied in by a user: files and folder owned by them. */
function copyIn(name: string, owner: string, files: Record<string, string>): void {
  const dir = path.join(ctx.config.root, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  Bun.spawnSync(["chown", "-R", `${uidOf(owner)}:100`, dir]);
}

/** Everything the API shows about the present datasets, as a user with all rights sees it. */
async function everything(c: AppContext): Promise<unknown> {
  const app = createApp(c);
  const admin = withUser(c, "rebuild_admin", { admin: true });
  const get = async (url: string) => {
    const res = await app.request(url, { headers: admin.headers });
    expect(res.status).toBe(200);
    return res.json();
  };
  const list = (await get("/api/v1/datasets?state=present&sort=path&limit=1000")) as { items: { id: number }[] };
  const out = [];
  for (const { id } of list.items) {
    const d = (await get(`/api/v1/datasets/${id}`)) as Record<string, unknown>;
    const access = (await get(`/api/v1/datasets/${id}/access`)) as Record<string, unknown>;
    const files = await get(`/api/v1/datasets/${id}/files`);
    out.push({
      ...Object.fromEntries(["id", "uid", "path", "title", "description", "owner", "state", "parents", "children", "tags", "files"].map((k) => [k, d[k]])),
      filesList: files,
      access: { owner: access.owner, viewers: access.viewers, editors: access.editors },
    });
  }
  return out;
}

test("deleting the database of a populated share and rebuilding it gives back everything users see, ids and grants included", async () => {
  const stopAccess = startAccess(ctx);
  const app = createApp(ctx);
  const owner = withUser(ctx, U.own!);
  const send = (method: string, url: string, body: unknown, who = owner) =>
    app.request(url, { method, headers: { ...who.headers, "Content-Type": "application/json" }, body: JSON.stringify(body) });

  copyIn("ct-knee", U.own!, { "slices/0001.tif": "a", "slices/0002.tif": "bb", "notes.txt": "scan notes" });
  copyIn("gone", U.own!, { "x.bin": "x" });
  copyIn("segmentation", U.two!, { "labels.nrrd": "labels" });
  await reconcileAll(ctx);
  await aclIdle(ctx);
  // Ids that are not simply 1, 2, 3 on a fresh database: a dataset vanishes, another is renamed, a copy appears.
  rmSync(path.join(ctx.config.root, "gone"), { recursive: true });
  renameSync(path.join(ctx.config.root, "segmentation"), path.join(ctx.config.root, "seg-v2"));
  cpSync(path.join(ctx.config.root, "ct-knee"), path.join(ctx.config.root, "ct-knee-copy"), { recursive: true });
  copyIn("histology", U.two!, { "slide.png": "png" });
  await reconcileAll(ctx);
  await reconcileAll(ctx);

  const ids = Object.fromEntries(
    ctx.db
      .query<{ path: string; id: number }, []>("SELECT path, id FROM datasets WHERE state = 'present'")
      .all()
      .map((r) => [r.path, r.id]),
  );
  expect(Object.keys(ids).sort()).toEqual(["ct-knee", "ct-knee-copy", "histology", "seg-v2"]);
  const two = withUser(ctx, U.two!);
  expect((await send("PATCH", `/api/v1/datasets/${ids["ct-knee"]}`, { title: "Knee CT", description: "Sheep knee, 90 kV" })).status).toBe(200);
  const tags = [
    { key: "Species", value: "sheep", children: [] },
    { key: "Scan", value: "", children: [{ key: "Voltage", value: "90 kV", children: [] }] },
  ];
  expect((await send("PUT", `/api/v1/datasets/${ids["ct-knee"]}/tags`, { tags })).status).toBe(200);
  expect((await send("PUT", `/api/v1/datasets/${ids["seg-v2"]}/parents`, { parents: [ids["ct-knee"]] }, two)).status).toBe(200);
  expect((await send("PUT", `/api/v1/datasets/${ids["ct-knee"]}/access`, { viewers: [U.vw, `@${people.group.lab}`], editors: [U.ed] })).status).toBe(200);
  expect((await send("PUT", `/api/v1/datasets/${ids["seg-v2"]}/access`, { viewers: [U.own] }, two)).status).toBe(200);
  await aclIdle(ctx);
  await stopAccess();
  const before = await everything(ctx);

  // The database is lost.
  ctx.db.close();
  for (const ext of ["", "-wal", "-shm"]) rmSync(path.join(ctx.config.state, `mata.db${ext}`), { force: true });

  const mata = (args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args, "--root", ctx.config.root, "--state", ctx.config.state], {
      cwd: path.join(import.meta.dir, "../.."),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, MATA_LOG: "error", MATA_ACLS: "true" },
    });
    return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
  };
  // Refused while a server holds the state dir (a live pid in mata.pid: this test's own).
  writeFileSync(path.join(ctx.config.state, "mata.pid"), `${process.pid}\n`);
  const refused = mata(["rebuild"]);
  expect(refused.code).toBe(1);
  expect(refused.err).toContain("mata serve is running");
  rmSync(path.join(ctx.config.state, "mata.pid"));

  const r = mata(["rebuild", "--json"]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).restored.grants).toMatchObject({ datasets: 2, grants: 4 });

  const rebuilt = contextOver(ctx.config, openDatabase(path.join(ctx.config.state, "mata.db")));
  try {
    expect(await everything(rebuilt)).toEqual(before);
  } finally {
    rebuilt.db.close();
  }
}, 120_000);
