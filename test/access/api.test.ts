// Grants API, owner reassignment, the sharing panel, and path traversal on the file route.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser, type TestUser } from "../support/auth.ts";

const ctx = testContext();
const app = createApp(ctx);
let id = 0;
let other = 0;
const u: Record<string, TestUser> = {};

beforeAll(() => {
  id = putDataset(ctx, "ds-api", { "a.txt": "alpha", "sub/b.txt": "beta" }, { owner: "ma_own" });
  other = putDataset(ctx, "ds-victim", { "secret.txt": "victim secret" }, { owner: "ma_victim" });
  for (const n of ["ma_own", "ma_view", "ma_edit", "ma_nobody", "ma_victim"]) u[n] = withUser(ctx, n);
  u.admin = withUser(ctx, "ma_root", { admin: true });
});
afterAll(() => ctx.cleanup());

const put = (who: TestUser, url: string, body: unknown) =>
  app.request(url, {
    method: "PUT",
    headers: { ...who.headers, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const get = (who: TestUser | null, url: string, extra: Record<string, string> = {}) => app.request(url, { headers: { ...(who?.headers ?? {}), ...extra } });

describe("PUT/GET /api/v1/datasets/{id}/access", () => {
  test("the owner shares; viewers read, editors edit, others get 403", async () => {
    const res = await put(u.ma_own!, `/api/v1/datasets/${id}/access`, { viewers: ["ma_view", "@users"], editors: ["ma_edit"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, owner: "ma_own", viewers: ["ma_view", "@users"], editors: ["ma_edit"], role: "owner", canManage: true });
    expect((await get(u.ma_view!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(200);
    expect((await get(u.ma_nobody!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(403);
    const seen = await (await get(u.ma_view!, `/api/v1/datasets/${id}/access`)).json();
    expect(seen).toMatchObject({ role: "viewer", canManage: false, editors: ["ma_edit"] });
    expect((await get(u.ma_nobody!, `/api/v1/datasets/${id}/access`)).status).toBe(403);
    // Editors edit metadata but may not change grants.
    expect((await put(u.ma_edit!, `/api/v1/datasets/${id}/access`, { viewers: ["ma_edit"] })).status).toBe(403);
    expect((await put(u.ma_view!, `/api/v1/datasets/${id}/access`, { viewers: [] })).status).toBe(403);
    const patch = await app.request(`/api/v1/datasets/${id}`, {
      method: "PATCH",
      headers: { ...u.ma_edit!.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "Edited" }),
    });
    expect(patch.status).toBe(200);
    const viewerPatch = await app.request(`/api/v1/datasets/${id}`, {
      method: "PATCH",
      headers: { ...u.ma_view!.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "No" }),
    });
    expect(viewerPatch.status).toBe(403);
  });

  test("a group grant reaches members of that unix group", async () => {
    const member = withUser(ctx, "ma_grouped", { groups: ["users"] });
    expect((await get(member, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(200);
  });

  test("bad input is refused with a message naming the problem", async () => {
    const cases: [unknown, RegExp][] = [
      [{ viewers: ["ma_nobody_such_user"] }, /Unknown user ma_nobody_such_user/],
      [{ viewers: ["@ma_no_such_group"] }, /Unknown group @ma_no_such_group/],
      [{ viewers: ["ma_view"], editors: ["ma_view"] }, /cannot be both viewer and editor/],
      [{ viewers: ["ma_own"] }, /owns this dataset/],
      [{ viewers: ["../etc"] }, /not a valid user name/],
      [{ viewers: "ma_view" }, /viewers must be a list/],
      [{ readers: [] }, /unknown field readers/],
      ["not json", /must be JSON/],
    ];
    for (const [body, msg] of cases) {
      const res = await put(u.ma_own!, `/api/v1/datasets/${id}/access`, body);
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(msg);
    }
    // Nothing was changed by the refused requests.
    expect((await (await get(u.ma_own!, `/api/v1/datasets/${id}/access`)).json()).editors).toEqual(["ma_edit"]);
  });

  test("a grant removed is enforced on the next request (no stale cache)", async () => {
    expect((await put(u.ma_own!, `/api/v1/datasets/${id}/access`, { viewers: [], editors: ["ma_edit"] })).status).toBe(200);
    expect((await get(u.ma_view!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(403);
    expect((await put(u.ma_own!, `/api/v1/datasets/${id}/access`, { viewers: ["ma_view"], editors: ["ma_edit"] })).status).toBe(200);
    expect((await get(u.ma_view!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(200);
  });

  test("only an admin reassigns the owner; the new owner manages, the old one no longer does", async () => {
    const ds = putDataset(ctx, "ds-owner", { "o.txt": "o" }, { owner: "ma_own" });
    expect((await put(u.ma_own!, `/api/v1/datasets/${ds}/owner`, { owner: "ma_view" })).status).toBe(403);
    const res = await put(u.admin!, `/api/v1/datasets/${ds}/owner`, { owner: "ma_view" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ owner: "ma_view", ownerFixed: true });
    expect(ctx.db.query<{ owner_fixed: number }, [number]>("SELECT owner_fixed FROM datasets WHERE id = ?").get(ds)?.owner_fixed).toBe(1);
    expect((await put(u.ma_view!, `/api/v1/datasets/${ds}/access`, { viewers: ["ma_nobody"] })).status).toBe(200);
    expect((await put(u.ma_own!, `/api/v1/datasets/${ds}/access`, { viewers: [] })).status).toBe(403);
    expect((await get(u.ma_own!, `/api/v1/datasets/${ds}/files/o.txt`)).status).toBe(403);
  });
});

describe("sharing panel", () => {
  const form = (who: TestUser, fields: Record<string, string>) =>
    app.request(`/datasets/${id}/sharing`, {
      method: "POST",
      headers: { ...who.headers, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });

  test("others see the owner only, the owner gets the picker and can add and remove people", async () => {
    const outsider = await (await get(u.ma_nobody!, `/datasets/${id}/sharing`, { "HX-Request": "true" })).text();
    expect(outsider).toContain("Ask ma_own for access");
    expect(outsider).not.toContain("ma_edit");
    expect(outsider).not.toContain("<form");
    const owner = await (await get(u.ma_own!, `/datasets/${id}/sharing`, { "HX-Request": "true" })).text();
    expect(owner).toContain('list="sharing-people"');
    expect(owner).toContain('<option value="ma_nobody">');
    const added = await form(u.ma_own!, { op: "add", name: "ma_nobody", role: "editor" });
    expect(added.status).toBe(200);
    expect(await added.text()).toContain("Shared with ma_nobody");
    expect((await get(u.ma_nobody!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(200);
    const removed = await form(u.ma_own!, { op: "remove", name: "ma_nobody" });
    expect(await removed.text()).toContain("ma_nobody no longer has access");
    expect((await get(u.ma_nobody!, `/api/v1/datasets/${id}/files/a.txt`)).status).toBe(403);
  });

  test("an unknown name is shown inside the panel; a viewer cannot post", async () => {
    const bad = await form(u.ma_own!, { op: "add", name: "ma_nobody_such", role: "viewer" });
    expect(bad.status).toBe(200);
    expect(await bad.text()).toContain("Unknown user ma_nobody_such");
    expect((await form(u.ma_view!, { op: "add", name: "ma_view", role: "editor" })).status).toBe(403);
  });
});

describe("path traversal on file routes", () => {
  test("dot segments, encodings and backslashes never reach a file outside the dataset", async () => {
    writeFileSync(path.join(ctx.config.root, "outside.txt"), "OUTSIDE-CONTENT-7f3");
    const owner = u.ma_own!;
    const attempts = [
      `/api/v1/datasets/${id}/files/%2e%2e/outside.txt`,
      `/api/v1/datasets/${id}/files/sub/%2e%2e%2f%2e%2e%2foutside.txt`,
      `/api/v1/datasets/${id}/files/..%2f..%2foutside.txt`,
      `/api/v1/datasets/${id}/files/..%5c..%5coutside.txt`,
      `/api/v1/datasets/${id}/files/sub%5c..%5c..%5coutside.txt`,
      `/api/v1/datasets/${id}/files/%252e%252e/outside.txt`,
      `/api/v1/datasets/${id}/files/sub/..%00/a.txt`,
      `/api/v1/datasets/${id}/files/%2fetc%2fpasswd`,
      `/api/v1/datasets/${id}/files//etc/passwd`,
    ];
    for (const url of attempts) {
      const res = await get(owner, url);
      const body = await res.text();
      expect({ url, status: [400, 403, 404].includes(res.status) }).toEqual({ url, status: true });
      expect(body).not.toContain("OUTSIDE-CONTENT-7f3");
      expect(body).not.toContain("root:");
    }
  });

  test("dot segments that resolve into another dataset are checked against that dataset", async () => {
    for (const url of [
      `/api/v1/datasets/${id}/files/../../${other}/files/secret.txt`,
      `/api/v1/datasets/${id}/files/%2e%2e/%2e%2e/${other}/files/secret.txt`,
    ]) {
      const res = await get(u.ma_own!, url);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain("victim secret");
    }
  });

  test("a symlink out of the dataset gives 404 even when the database lists it", async () => {
    const dir = path.join(ctx.config.root, "ds-api");
    mkdirSync(path.join(dir, "links"), { recursive: true });
    symlinkSync("/etc/passwd", path.join(dir, "links", "passwd"));
    symlinkSync(path.join(ctx.config.root, "ds-victim"), path.join(dir, "links", "victim"));
    const now = Date.now();
    for (const p of ["links/passwd", "links/victim/secret.txt"])
      ctx.db.query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, 1, ?, 1, ?)").run(id, p, now, now);
    for (const p of ["links/passwd", "links/victim/secret.txt"]) {
      const res = await get(u.ma_own!, `/api/v1/datasets/${id}/files/${p}`);
      expect(res.status).toBe(404);
      const body = await res.text();
      expect(body).not.toContain("root:");
      expect(body).not.toContain("victim secret");
    }
  });
});
