// The route matrix: every route the app has, for anonymous, other, viewer, editor, owner and admin.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appRoutes, createApp } from "../../src/app.ts";
import { DATASET_LEVELS, levelOf, type Level } from "../../src/web/access-levels.ts";
import { openApiPath } from "../../src/web/openapi.ts";
import { routeKey } from "../../src/web/route.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";

type Who = "anonymous" | "other" | "viewer" | "editor" | "owner" | "admin";
const WHO: Who[] = ["anonymous", "other", "viewer", "editor", "owner", "admin"];
const RANK: Record<Who, number> = { anonymous: -1, other: 0, viewer: 1, editor: 2, owner: 3, admin: 4 };
const NEEDS: Record<Level, number> = { public: -1, "signed-in": 0, read: 1, edit: 2, manage: 3, admin: 4 };
const NAMES: Record<Exclude<Who, "anonymous">, string> = { other: "ma_other", viewer: "ma_viewer", editor: "ma_editor", owner: "ma_owner", admin: "ma_admin" };

const ctx = testContext();
const declared = appRoutes();
const app = createApp(ctx, declared);
let id = 0;
let jobId = 0;

beforeAll(() => {
  id = putDataset(ctx, "ds-matrix", { "a.txt": "secret content", "sub/b.txt": "more" }, { owner: NAMES.owner, title: "Matrix" });
  jobId = Number(ctx.db.query("INSERT INTO jobs (kind, dataset_id, state, created_at) VALUES ('preview', ?, 'failed', ?)").run(id, Date.now()).lastInsertRowid);
  for (const n of Object.values(NAMES)) withUser(ctx, n, { admin: n === NAMES.admin });
  ctx.db
    .query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, ?, 'viewer'), (?, ?, 'editor')")
    .run(id, `user:${NAMES.viewer}`, id, `user:${NAMES.editor}`);
});
afterAll(() => ctx.cleanup());

/** What the router really answers (middleware, registered for ALL methods, excluded), as `METHOD path`. */
function mounted(): Set<string> {
  return new Set(app.routes.filter((r) => r.method !== "ALL").map(routeKey));
}

function concrete(path: string): string {
  return path
    .split("/")
    .map((seg) => {
      if (seg === "*") return "a.txt";
      if (!seg.startsWith(":")) return seg;
      if (seg.startsWith(":id")) return String(path.includes("/jobs/") ? jobId : id);
      const constraint = /\{(.+)\}$/.exec(seg)?.[1];
      return ["1", "a".repeat(64), "x"].find((v) => !constraint || new RegExp(`^(?:${constraint})$`).test(v)) ?? "1";
    })
    .join("/");
}

async function call(method: string, url: string, who: Who): Promise<Response> {
  const headers: Record<string, string> = who === "anonymous" ? {} : { ...withUser(ctx, NAMES[who], { admin: who === "admin" }).headers };
  // A fresh session per request (so /logout ends only its own), and bodies no handler accepts: the check
  // happens before any handler, and walking the matrix changes nothing.
  const init: RequestInit = { method, headers };
  if (method !== "GET" && method !== "HEAD") {
    if (url.startsWith("/api/")) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify({ matrixProbe: true });
    } else {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = `op=matrix-probe&_csrf=${encodeURIComponent(headers["X-CSRF-Token"] ?? "")}`;
    }
  }
  return app.request(url, init);
}

describe("route declarations", () => {
  test("every route the router answers is declared, and every declaration is mounted", () => {
    const keys = declared.map(routeKey);
    const router = mounted();
    expect([...router].filter((k) => !keys.includes(k))).toEqual([]);
    expect(keys.filter((k) => !router.has(k))).toEqual([]);
  });

  test("each route is declared once", () => {
    const keys = declared.map(routeKey);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  test("every dataset-level rule can find its dataset in the path", () => {
    const bad = declared
      .filter((r) => DATASET_LEVELS.has(levelOf(r.access)))
      .filter((r) => !r.path.includes(`:${typeof r.access === "object" && r.access.datasetParam ? r.access.datasetParam : "id"}`))
      .map(routeKey);
    expect(bad).toEqual([]);
  });

  test("openapi.json lists exactly the /api/v1 routes, each with its answers", async () => {
    const doc = (await (await call("GET", "/api/v1/openapi.json", "other")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const api = declared.filter((r) => r.path.startsWith("/api/v1/")).map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    expect(documented.sort()).toEqual(api.sort());
    const withoutSuccess = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => !Object.keys(op.responses).some((s) => s.startsWith("2")))
        .map(([m]) => `${m} ${p}`),
    );
    expect(withoutSuccess).toEqual([]);
  });
});

describe("matrix", () => {
  for (const who of WHO) {
    test(`${who}: every route answers as its level demands`, async () => {
      const wrong: string[] = [];
      for (const r of declared) {
        const level = levelOf(r.access);
        const url = concrete(r.path);
        const res = await call(r.method.toUpperCase(), url, who);
        const allowed = RANK[who] >= NEEDS[level];
        const status = res.status;
        const refusedAnon = status === 401 || (status === 302 && (res.headers.get("Location") ?? "").startsWith("/login"));
        if (level === "public") {
          // Open routes answer for themselves (a login with bad credentials is a 401): never refused by access.
          if (status === 403) wrong.push(`${r.method} ${url}: ${who} got 403 on a public route`);
        } else if (who === "anonymous") {
          if (!refusedAnon) wrong.push(`${r.method} ${url}: anonymous got ${status}, expected 401 or a redirect to /login`);
        } else if (allowed) {
          if (status === 401 || status === 403) wrong.push(`${r.method} ${url}: ${who} got ${status} but level ${level} allows it`);
        } else if (status !== 403) wrong.push(`${r.method} ${url}: ${who} got ${status}, expected 403 (level ${level})`);
      }
      expect(wrong).toEqual([]);
    });
  }
});

describe("enforcement details", () => {
  test("file content: viewers get the bytes, others 403, a missing dataset 404", async () => {
    const viewer = await call("GET", `/api/v1/datasets/${id}/files/a.txt`, "viewer");
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toBe("secret content");
    const other = await call("GET", `/api/v1/datasets/${id}/files/a.txt`, "other");
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: "forbidden" } });
    expect((await call("GET", `/api/v1/datasets/999999/files/a.txt`, "other")).status).toBe(404);
    // Listing stays open to everyone signed in.
    expect((await call("GET", `/api/v1/datasets/${id}/files`, "other")).status).toBe(200);
  });

  test("grants to a unix group reach its members", async () => {
    const gid = putDataset(ctx, "ds-group", { "g.txt": "group data" }, { owner: NAMES.owner });
    ctx.db.query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, 'group:ma_lab', 'viewer')").run(gid);
    const member = withUser(ctx, "ma_member", { groups: ["ma_lab"] });
    const outsider = withUser(ctx, "ma_outsider", { groups: ["ma_other"] });
    expect((await app.request(`/api/v1/datasets/${gid}/files/g.txt`, { headers: member.headers })).status).toBe(200);
    expect((await app.request(`/api/v1/datasets/${gid}/files/g.txt`, { headers: outsider.headers })).status).toBe(403);
  });

  test("access is checked before input: a refused caller learns nothing from validation", async () => {
    const bad = { method: "PUT", headers: { ...withUser(ctx, NAMES.other).headers, "Content-Type": "application/json" }, body: "{not json" };
    expect((await app.request(`/api/v1/datasets/${id}/tags`, bad)).status).toBe(403);
    const editor = { ...bad, headers: { ...bad.headers, ...withUser(ctx, NAMES.editor).headers } };
    const res = await app.request(`/api/v1/datasets/${id}/tags`, editor);
    expect(res.status).toBe(400);
  });
});
