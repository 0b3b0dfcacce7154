import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";
import { signedIn } from "../support/client.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  return { ctx, app: signedIn(createApp(ctx), withUser(ctx, "admin", { admin: true })) };
}

describe("GET /api/v1/datasets", () => {
  test("pages through datasets with a total, sorted", async () => {
    const { ctx, app } = setup();
    for (const n of ["c", "a", "b", "d"]) putDataset(ctx, `scan-${n}`, { "x.bin": n.repeat(3) }, { title: `Scan ${n.toUpperCase()}` });
    const res = await app.request("/api/v1/datasets?limit=2&offset=1&sort=path");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { path: string; title: string; files: unknown }[]; total: number };
    expect(body.total).toBe(4);
    expect(body.items.map((i) => i.path)).toEqual(["scan-b", "scan-c"]);
    expect(body.items[0]).toMatchObject({ title: "Scan B", state: "present", files: { count: 1, bytes: 3 } });
    const desc = (await (await app.request("/api/v1/datasets?sort=title&order=desc&limit=1")).json()) as { items: { path: string }[] };
    expect(desc.items[0]!.path).toBe("scan-d");
  });

  test("filters by a substring of path or title", async () => {
    const { ctx, app } = setup();
    putDataset(ctx, "lung-01", {}, { title: "Biopsy" });
    putDataset(ctx, "knee-02", {}, { title: "Sheep LUNG" });
    putDataset(ctx, "heart-03");
    const body = (await (await app.request("/api/v1/datasets?q=lung")).json()) as { total: number };
    expect(body.total).toBe(2);
    const exact = (await (await app.request("/api/v1/datasets?path=knee-02")).json()) as { items: { title: string }[]; total: number };
    expect(exact.items.map((i) => i.title)).toEqual(["Sheep LUNG"]);
    expect(((await (await app.request("/api/v1/datasets?path=knee")).json()) as { total: number }).total).toBe(0);
  });

  test("filters by tags: key=value and key:, all of them", async () => {
    const { ctx, app } = setup();
    const a = putDataset(ctx, "a");
    const b = putDataset(ctx, "b");
    putDataset(ctx, "c");
    const tag = ctx.db.query("INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, NULL, 0, ?, ?)");
    tag.run(a, "Species", "sheep");
    tag.run(a, "Organ", "lung");
    tag.run(b, "Species", "human");
    const ids = async (qs: string) => ((await (await app.request(`/api/v1/datasets?${qs}`)).json()) as { items: { id: number }[] }).items.map((i) => i.id);
    expect(await ids("tag=Species=sheep")).toEqual([a]);
    expect(await ids("tag=Species:")).toEqual([a, b]);
    expect(await ids("tag=Species&tag=Organ=lung")).toEqual([a]);
    expect(await ids(`tag=${encodeURIComponent("Species=x' OR 1=1 --")}`)).toEqual([]);
    expect((await app.request("/api/v1/datasets?tag==sheep")).status).toBe(400);
  });

  test("bad paging parameters are refused with a message naming them", async () => {
    const { app } = setup();
    for (const [q, msg] of [
      ["limit=0", /limit must be from 1/],
      ["limit=abc", /limit must be a whole number/],
      ["sort=size;drop", /sort must be one of/],
      ["state=gone", /state must be one of/],
    ] as const) {
      const res = await app.request(`/api/v1/datasets?${q}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(msg);
    }
  });
});

describe("GET /api/v1/datasets/{id}", () => {
  test("shows the contract fields", async () => {
    const { ctx, app } = setup();
    const parent = putDataset(ctx, "orig", { "a.tif": "aaaa" });
    const id = putDataset(ctx, "seg", { "m.tif": "mm" }, { title: "Segmentation", description: "mask" });
    ctx.db.query("INSERT INTO relations (child_id, parent_id) VALUES (?, ?)").run(id, parent);
    const t = Number(ctx.db.query("INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, NULL, 0, 'Patient', '')").run(id).lastInsertRowid);
    ctx.db.query("INSERT INTO tags (dataset_id, parent_id, position, key, value) VALUES (?, ?, 0, 'Species', 'sheep')").run(id, t);
    const body = (await (await app.request(`/api/v1/datasets/${id}`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id,
      path: "seg",
      title: "Segmentation",
      description: "mask",
      owner: "admin",
      state: "present",
      parents: [parent],
      children: [],
      tags: [{ key: "Patient", value: "", children: [{ key: "Species", value: "sheep", children: [] }] }],
      files: { count: 1, bytes: 2 },
      preview: { state: "none", progress: 0 },
      previews: [],
    });
    expect((await (await app.request(`/api/v1/datasets/${parent}`)).json()) as object).toMatchObject({ children: [id] });
  });

  test("unknown and malformed ids", async () => {
    const { app } = setup();
    expect((await app.request("/api/v1/datasets/999")).status).toBe(404);
    expect((await app.request("/api/v1/datasets/1e3")).status).toBe(400);
  });
});

describe("files", () => {
  test("lists files with sizes and times", async () => {
    const { ctx, app } = setup();
    const id = putDataset(ctx, "d", { "b.raw": "12345", "sub/a.txt": "x" });
    const body = (await (await app.request(`/api/v1/datasets/${id}/files`)).json()) as {
      items: { path: string; size: number; modifiedAt: string }[];
      total: number;
    };
    expect(body.total).toBe(2);
    expect(body.items.map((f) => [f.path, f.size])).toEqual([
      ["b.raw", 5],
      ["sub/a.txt", 1],
    ]);
    expect(Date.parse(body.items[0]!.modifiedAt)).toBeGreaterThan(0);
  });

  test("serves content with Range, validators and encoded names", async () => {
    const { ctx, app } = setup();
    const id = putDataset(ctx, "d", { "slice 001 ü.raw": "0123456789" });
    const url = `/api/v1/datasets/${id}/files/${encodeURIComponent("slice 001 ü.raw")}`;
    const full = await app.request(url);
    expect(full.status).toBe(200);
    expect(await full.text()).toBe("0123456789");
    const etag = full.headers.get("ETag")!;
    const part = await app.request(url, { headers: { Range: "bytes=2-4" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe("bytes 2-4/10");
    expect(await part.text()).toBe("234");
    expect(await (await app.request(url, { headers: { Range: "bytes=-3" } })).text()).toBe("789");
    expect((await app.request(url, { headers: { Range: "bytes=20-" } })).status).toBe(416);
    expect((await app.request(url, { headers: { "If-None-Match": etag } })).status).toBe(304);
  });

  test("a file whose name is not valid UTF-8 is listed by the scanner and served byte for byte", async () => {
    const { ctx, app } = setup();
    const dir = Buffer.from(path.join(ctx.config.root, "scan-1"));
    mkdirSync(dir);
    writeFileSync(Buffer.concat([dir, Buffer.from("/slice-\xff\xfe.raw", "latin1")]), "odd bytes");
    await reconcileAll(ctx);
    const id = ctx.db.query<{ id: number }, []>("SELECT id FROM datasets WHERE path = 'scan-1'").get()!.id;
    const listed = (await (await app.request(`/api/v1/datasets/${id}/files`)).json()) as { items: { path: string }[] };
    const name = listed.items.find((f) => f.path.startsWith("slice-"))!.path;
    expect(name).toContain("\uFFFD");
    const res = await app.request(`/api/v1/datasets/${id}/files/${encodeURIComponent(name)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("odd bytes");
    const part = await app.request(`/api/v1/datasets/${id}/files/${encodeURIComponent(name)}`, { headers: { Range: "bytes=4-" } });
    expect(await part.text()).toBe("bytes");
  });

  test("refuses traversal, unlisted files and symlinks out of the dataset", async () => {
    const { ctx, app } = setup();
    const id = putDataset(ctx, "d", { "ok.txt": "fine" });
    writeFileSync(path.join(ctx.dir, "secret.txt"), "secret");
    writeFileSync(path.join(ctx.config.root, "d", "unlisted.txt"), "not scanned");
    for (const p of ["..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt", "..\\..\\secret.txt", "unlisted.txt", "%E0%A4%A"]) {
      const res = await app.request(`/api/v1/datasets/${id}/files/${p}`);
      expect([400, 404]).toContain(res.status);
    }
    // A listed file replaced by a symlink pointing outside is not followed.
    const abs = path.join(ctx.config.root, "d", "ok.txt");
    rmSync(abs);
    symlinkSync(path.join(ctx.dir, "secret.txt"), abs);
    const res = await app.request(`/api/v1/datasets/${id}/files/ok.txt`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("secret");
  });
});
