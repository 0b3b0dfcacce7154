// The tiles' fast path (src/preview/tile.fast-path.ts) against the app it stands in front of: for every request it
// answers, the same status, headers and bytes as the declared route; everything else handed to the app; and a grant,
// session or token taken away is refused on the very next request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { setAccess } from "../../src/access/access.service.ts";
import { accessRepo } from "../../src/access/access.repo.ts";
import { invalidateAccess } from "../../src/access/access.cache.ts";
import { endSession } from "../../src/auth/session.service.ts";
import { createToken, revokeToken } from "../../src/auth/token.service.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { withTileFastPath } from "../../src/preview/tile.fast-path.ts";
import { testContext } from "../support/env.ts";
import { withUser, type TestUser } from "../support/auth.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
const app = createApp(ctx);
let handedOver = 0;
const fast = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: withTileFastPath(ctx, (req, server) => {
    handedOver++;
    return app.fetch(req, server);
  }),
});
const full = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, server) => app.fetch(req, server) });
let id = 0;
let failedId = 0;
const admin = { name: "root", isAdmin: true, groups: [] };

beforeAll(async () => {
  id = addDataset(ctx, "ct");
  ctx.db.query("UPDATE datasets SET owner = 'olga' WHERE id = ?").run(id);
  writeMetaImage(path.join(ctx.config.root, "ct"), "vol", [300, 100, 20], (x, y, z) => x + y + z);
  failedId = addDataset(ctx, "broken");
  ctx.db.query("UPDATE datasets SET owner = 'olga' WHERE id = ?").run(failedId);
  writeMetaImage(path.join(ctx.config.root, "broken"), "vol", [64, 64, 8], () => 1, { truncateTo: 100 });
  const stop = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, id);
  commitChange(ctx, failedId);
  await waitFor("previews", () => previewSummary(ctx, id).state === "ready" && previewSummary(ctx, failedId).state === "failed");
  await stop();
}, 60_000);
afterAll(() => {
  fast.stop(true);
  full.stop(true);
  ctx.cleanup();
});

const tile = (name = "0-256_0-100_3-4", dataset = id) => `/api/v1/datasets/${dataset}/previews/0/tiles/0/${name}`;

/** One request to both servers: the answers must match in status, headers (but Date) and bytes; says whether the app answered. */
async function compare(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; appAnswered: boolean }> {
  const before = handedOver;
  const a = await fetch(`http://127.0.0.1:${fast.port}${url}`, { ...init, redirect: "manual" });
  const appAnswered = handedOver > before;
  const b = await fetch(`http://127.0.0.1:${full.port}${url}`, { ...init, redirect: "manual" });
  const headersOf = (r: Response) =>
    Object.entries(r.headers.toJSON())
      .filter(([k]) => k !== "date")
      .sort();
  expect(a.status).toBe(b.status);
  expect(headersOf(a)).toEqual(headersOf(b));
  expect(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer()))).toBe(true);
  return { status: a.status, headers: a.headers, appAnswered };
}

const cookieOf = (u: TestUser) => ({ Cookie: u.cookie });

describe("tile fast path", () => {
  test("answers permitted tile requests itself, exactly as the route does", async () => {
    const olga = withUser(ctx, "olga");
    const vera = withUser(ctx, "vera");
    const gil = withUser(ctx, "gil", { groups: ["lab"] });
    await setAccess(ctx, admin, id, { viewers: ["vera"] });
    // A grant to a unix group, as the sharing picker writes it (the group need not exist here).
    accessRepo(ctx.db).replaceGrants(id, [
      { principal: "user:vera", role: "viewer" },
      { principal: "group:lab", role: "viewer" },
    ]);
    invalidateAccess(ctx, id);
    const token = createToken(ctx, "olga", "script").secret;
    const cases: [string, Record<string, string>][] = [
      ["owner's cookie", cookieOf(olga)],
      ["viewer grant", cookieOf(vera)],
      ["group grant", cookieOf(gil)],
      ["admin", cookieOf(withUser(ctx, "ada", { admin: true }))],
      ["API token", { Authorization: `Bearer ${token}` }],
      ["other cookies beside", { Cookie: `theme=dark; ${olga.cookie}; lang=en` }],
    ];
    for (const [why, headers] of cases) {
      for (const name of ["0-256_0-100_3-4", "256-300_0-100_0-1", "0-256_50-51_0-20", "100-101_0-100_0-20"]) {
        const r = await compare(tile(name), { headers });
        expect([why, r.status, r.appAnswered]).toEqual([why, 200, false]);
      }
    }
    const first = await compare(tile(), { headers: cookieOf(olga) });
    expect(first.headers.get("content-type")).toBe("image/jpeg");
    expect(first.headers.get("content-security-policy")).toContain("default-src 'self'");
    const etag = first.headers.get("etag")!;
    const revalidated = await compare(tile(), { headers: { ...cookieOf(olga), "If-None-Match": etag } });
    expect([revalidated.status, revalidated.appAnswered]).toEqual([304, false]);
    const since = await compare(tile(), { headers: { ...cookieOf(olga), "If-Modified-Since": first.headers.get("last-modified")! } });
    expect([since.status, since.appAnswered]).toEqual([304, false]);
  });

  test("hands everything else to the app, which answers it in full", async () => {
    const olga = withUser(ctx, "olga");
    const stranger = withUser(ctx, "sam");
    const cases: [string, string, RequestInit, number][] = [
      ["no credentials", tile(), {}, 401],
      ["unknown session", tile(), { headers: { Cookie: "mata_session=nosuchsession" } }, 401],
      ["malformed cookie", tile(), { headers: { Cookie: "mata_session=a b" } }, 401],
      ["two session cookies", tile(), { headers: { Cookie: `${olga.cookie}; ${olga.cookie}` } }, 200],
      ["unknown token", tile(), { headers: { Authorization: "Bearer mata_nosuchtoken" } }, 401],
      ["Basic credentials", tile(), { headers: { Authorization: `Basic ${btoa("olga:wrong")}` } }, 401],
      ["no grant", tile(), { headers: cookieOf(stranger) }, 403],
      ["no such dataset", tile(undefined, 99_999), { headers: cookieOf(olga) }, 404],
      ["off the grid", tile("0-255_0-100_3-4"), { headers: cookieOf(olga) }, 404],
      ["failed preview", `/api/v1/datasets/${failedId}/previews/0/tiles/0/0-64_0-64_0-1`, { headers: cookieOf(olga) }, 404],
      ["a query string", `${tile()}?v=1`, { headers: cookieOf(olga) }, 200],
      ["the info", `/api/v1/datasets/${id}/previews/0/tiles/info`, { headers: cookieOf(olga) }, 200],
      ["HEAD", tile(), { method: "HEAD", headers: cookieOf(olga) }, 200],
      ["a write", tile(), { method: "POST", headers: { Authorization: `Bearer ${createToken(ctx, "olga", "w").secret}` } }, 404],
    ];
    for (const [why, url, init, status] of cases) {
      const r = await compare(url, init);
      expect([why, r.status, r.appAnswered]).toEqual([why, status, true]);
    }
  });

  test("a grant, session or token taken away is refused on the next request", async () => {
    const vera = withUser(ctx, "vera");
    await setAccess(ctx, admin, id, { viewers: ["vera"] });
    expect((await compare(tile(), { headers: cookieOf(vera) })).status).toBe(200);
    await setAccess(ctx, admin, id, { viewers: [] });
    expect((await compare(tile(), { headers: cookieOf(vera) })).status).toBe(403);

    const olga = withUser(ctx, "olga");
    expect((await compare(tile(), { headers: cookieOf(olga) })).status).toBe(200);
    endSession(ctx, olga.cookie.slice(olga.cookie.indexOf("=") + 1));
    expect((await compare(tile(), { headers: cookieOf(olga) })).status).toBe(401);

    const { id: tokenId, secret } = createToken(ctx, "olga", "revoked");
    expect((await compare(tile(), { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(200);
    revokeToken(ctx, "olga", tokenId);
    expect((await compare(tile(), { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  test("a session ended by another process is refused within a second; seen_at is still kept", async () => {
    let now = Date.now();
    ctx.clock = { now: () => now };
    try {
      const olga = withUser(ctx, "olga");
      expect((await compare(tile(), { headers: cookieOf(olga) })).status).toBe(200);
      // A minute on: the request reads the session again and marks it seen.
      now += 61_000;
      expect((await compare(tile(), { headers: cookieOf(olga) })).status).toBe(200);
      const other = new Database(ctx.db.filename);
      try {
        const seen = other.query<{ seen_at: number }, []>("SELECT seen_at FROM sessions WHERE account = 'olga' ORDER BY seen_at DESC LIMIT 1").get()!;
        expect(seen.seen_at).toBe(now);
        // `mata user passwd olga` in another process ends her sessions.
        other.query("DELETE FROM sessions WHERE account = 'olga'").run();
      } finally {
        other.close();
      }
      const r = await fetch(`http://127.0.0.1:${fast.port}${tile()}`, { headers: cookieOf(olga) });
      expect(r.status).toBe(200);
      now += 1001;
      expect((await compare(tile(), { headers: cookieOf(olga) })).status).toBe(401);
    } finally {
      ctx.clock = { now: () => Date.now() };
    }
  });

  test("counts its answers under the tile route's metrics", async () => {
    const olga = withUser(ctx, "olga");
    const count = () => ctx.services.metrics.http.get("/api/v1/datasets/:id/previews/*")?.byMethod.get("GET")?.get(200) ?? 0;
    const before = count();
    const r = await compare(tile(), { headers: cookieOf(olga) });
    expect(r.appAnswered).toBe(false);
    // One from the fast path, one from the app behind the other server.
    expect(count()).toBe(before + 2);
  });
});
