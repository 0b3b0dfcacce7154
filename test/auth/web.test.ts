// Sign-in, sessions, CSRF, API tokens and throttling over the local backend, through createApp().request().
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createApp } from "../../src/app.ts";
import { configureAuth } from "../../src/auth/auth.runtime.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { hashPassword } from "../../src/auth/password.ts";
import type { Clock } from "../../src/clock.ts";
import { testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";

// Real password hashing and real services: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

async function setup(opts: { tls?: boolean; floorMs?: number } = {}) {
  const ctx = testContext(opts.tls ? { tls: { cert: "/nonexistent/cert.pem", key: "/nonexistent/key.pem" } } : {});
  cleanups.push(ctx.cleanup);
  configureAuth(ctx, { failureFloorMs: opts.floorMs ?? 30 });
  accountsRepo(ctx.db).add("alice", await hashPassword("alice-secret-1"), false, Date.now());
  accountsRepo(ctx.db).add("root1", await hashPassword("root1-secret-1"), true, Date.now());
  return { ctx, app: createApp(ctx) };
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

/** The session cookie value a response sets, or null. */
function sessionCookie(res: Response): string | null {
  const c = res.headers.getSetCookie().find((s) => s.startsWith("mata_session="));
  return c ? c.slice("mata_session=".length).split(";")[0]! : null;
}

async function login(app: ReturnType<typeof createApp>, name: string, password: string, extra: Record<string, string> = {}) {
  const init = form({ name, password, next: "/account" });
  return app.request("/login", { ...init, headers: { ...init.headers, ...extra } });
}

const csrfOf = async (res: Response) => /<meta name="csrf-token" content="([^"]+)"/.exec(await res.text())?.[1];

describe("sign-in and sessions", () => {
  test("pages redirect to the login page, the API answers 401 JSON, health/static/login stay open", async () => {
    const { app } = await setup();
    const page = await app.request("/account?tab=1");
    expect(page.status).toBe(302);
    expect(page.headers.get("Location")).toBe("/login?next=%2Faccount%3Ftab%3D1");
    const api = await app.request("/api/v1/datasets");
    expect(api.status).toBe(401);
    expect(api.headers.get("WWW-Authenticate")).toContain("Basic");
    expect(await api.json()).toEqual({ error: { code: "unauthorized", message: "Sign in first" } });
    const hx = await app.request("/account", { headers: { "HX-Request": "true" } });
    expect(hx.status).toBe(401);
    expect(hx.headers.get("HX-Redirect")).toBe("/login?next=%2Faccount");
    for (const open of ["/api/v1/health", "/static/app.css", "/login"]) expect((await app.request(open)).status).toBe(200);
  });

  test("right password: a new HttpOnly SameSite session cookie and a redirect; wrong password: 401 and no cookie", async () => {
    const { app } = await setup();
    const bad = await login(app, "alice", "nope");
    expect(bad.status).toBe(401);
    expect(sessionCookie(bad)).toBeNull();
    expect(await bad.text()).toContain("Wrong account name or password");
    const ok = await login(app, "alice", "alice-secret-1");
    expect(ok.status).toBe(303);
    expect(ok.headers.get("Location")).toBe("/account");
    const set = ok.headers.getSetCookie().find((s) => s.startsWith("mata_session="))!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    expect(set).toMatch(/Path=\//);
    expect(set).toMatch(/Max-Age=43200/);
    expect(set).not.toMatch(/Secure/);
    const page = await app.request("/account", { headers: { Cookie: `mata_session=${sessionCookie(ok)}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Account alice");
  });

  test("under TLS the cookie is Secure", async () => {
    const { app } = await setup({ tls: true });
    const ok = await login(app, "alice", "alice-secret-1");
    expect(ok.headers.getSetCookie().find((s) => s.startsWith("mata_session="))).toMatch(/; Secure/);
  });

  test("an open redirect through next= is refused", async () => {
    const { app } = await setup();
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const res = await app.request("/login", form({ name: "alice", password: "alice-secret-1", next }));
      expect(res.headers.get("Location")).toBe("/");
    }
  });

  test("session fixation fails: a planted cookie is never adopted, sign-in issues a new id and ends the old session", async () => {
    const { ctx, app } = await setup();
    // A made-up id planted in the victim's browser.
    const planted = "attacker-chosen-session-id";
    const res = await login(app, "alice", "alice-secret-1", { Cookie: `mata_session=${planted}` });
    const fresh = sessionCookie(res)!;
    expect(fresh).not.toBe(planted);
    expect((await app.request("/account", { headers: { Cookie: `mata_session=${planted}` } })).status).toBe(302);
    // A real session of the attacker planted in the victim's browser: it ends when the victim signs in.
    const attacker = withUser(ctx, "mallory");
    const res2 = await login(app, "alice", "alice-secret-1", { Cookie: attacker.cookie });
    expect(sessionCookie(res2)).not.toBe(attacker.cookie.split("=")[1]);
    expect((await app.request("/account", { headers: { Cookie: attacker.cookie } })).status).toBe(302);
    expect((await app.request("/account", { headers: { Cookie: `mata_session=${sessionCookie(res2)}` } })).status).toBe(200);
  });

  test("logout ends the session and clears the cookie", async () => {
    const { ctx, app } = await setup();
    const u = withUser(ctx, "alice");
    const out = await app.request("/logout", { method: "POST", headers: u.headers });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().find((s) => s.startsWith("mata_session="))).toMatch(/Max-Age=0/);
    expect((await app.request("/account", { headers: u.headers })).status).toBe(302);
  });

  test("sessions expire after 12 hours, and after 2 idle hours", async () => {
    const { ctx, app } = await setup();
    let now = Date.now();
    const clock: Clock = { now: () => now };
    ctx.clock = clock;
    const u = withUser(ctx, "alice");
    for (let h = 1; h <= 11; h++) {
      now += 60 * 60_000;
      expect((await app.request("/account", { headers: u.headers })).status).toBe(200);
    }
    now += 61 * 60_000;
    expect((await app.request("/account", { headers: u.headers })).status).toBe(302);
    const v = withUser(ctx, "alice");
    now += 2 * 60 * 60_000 + 1000;
    expect((await app.request("/account", { headers: v.headers })).status).toBe(302);
  });
});

describe("CSRF", () => {
  test("a cookie-authenticated POST without or with a wrong token is 403; header or form field token passes", async () => {
    const { ctx, app } = await setup();
    const u = withUser(ctx, "alice");
    const missing = await app.request("/account/tokens", { ...form({ label: "a" }), headers: { ...form({}).headers, Cookie: u.cookie } });
    expect(missing.status).toBe(403);
    const wrong = await app.request("/account/tokens", {
      ...form({ label: "a" }),
      headers: { ...form({}).headers, Cookie: u.cookie, "X-CSRF-Token": (u.csrf[0] === "x" ? "y" : "x") + u.csrf.slice(1) },
    });
    expect(wrong.status).toBe(403);
    const wrongField = await app.request("/account/tokens", { ...form({ label: "a", _csrf: "nope" }), headers: { ...form({}).headers, Cookie: u.cookie } });
    expect(wrongField.status).toBe(403);
    const htmx = await app.request("/account/tokens", { ...form({ label: "a" }), headers: { ...form({}).headers, ...u.headers, "HX-Request": "true" } });
    expect(htmx.status).toBe(200);
    const field = await app.request("/account/tokens", { ...form({ label: "b", _csrf: u.csrf }), headers: { ...form({}).headers, Cookie: u.cookie } });
    expect(field.status).toBe(200);
    // API calls with a cookie need it too; every unsafe method is covered.
    for (const method of ["PUT", "PATCH", "DELETE", "POST"]) {
      expect((await app.request("/api/v1/datasets/1", { method, headers: { Cookie: u.cookie } })).status).toBe(403);
    }
    // The token of another session does not pass.
    const other = withUser(ctx, "alice");
    expect((await app.request("/logout", { method: "POST", headers: { Cookie: u.cookie, "X-CSRF-Token": other.csrf } })).status).toBe(403);
  });

  test("the page carries the token in <meta name=csrf-token> and in its forms", async () => {
    const { ctx, app } = await setup();
    const u = withUser(ctx, "alice");
    const html = await (await app.request("/account", { headers: { Cookie: u.cookie } })).text();
    expect(html).toContain(`<meta name="csrf-token" content="${u.csrf}"`);
    expect(html).toContain(`name="_csrf" value="${u.csrf}"`);
  });

  test("sign-in posted from another site is refused", async () => {
    const { app } = await setup();
    const res = await login(app, "alice", "alice-secret-1", { Origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(sessionCookie(res)).toBeNull();
  });
});

describe("HTTP Basic and API tokens", () => {
  test("Basic against the backend needs no CSRF token; a wrong password is 401", async () => {
    const { app } = await setup();
    const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });
    const ok = await app.request("/account/tokens", { ...form({ label: "ci" }), headers: { ...form({}).headers, ...basic("alice", "alice-secret-1") } });
    expect(ok.status).toBe(200);
    const bad = await app.request("/api/v1/datasets", { headers: basic("alice", "wrong") });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.message).toBe("Wrong account name or password");
    expect((await app.request("/api/v1/datasets", { headers: { Authorization: "Basic !!!" } })).status).toBe(401);
  });

  test("a token created on /account works as Bearer until revoked, and is stored only hashed", async () => {
    const { ctx, app } = await setup();
    const u = withUser(ctx, "alice");
    const created = await app.request("/account/tokens", { ...form({ label: "my script" }), headers: { ...form({}).headers, ...u.headers } });
    const html = await created.text();
    const secret = /<code id="new-token">([^<]+)<\/code>/.exec(html)![1]!;
    expect(secret).toStartWith("mata_");
    const stored = ctx.db.query<{ token_hash: string }, []>("SELECT token_hash FROM api_tokens").all();
    expect(stored.map((r) => r.token_hash)).not.toContain(secret);
    const bearer = { Authorization: `Bearer ${secret}` };
    const page = await app.request("/account", { headers: bearer });
    expect(page.status).toBe(200);
    const listed = await page.text();
    expect(listed).toContain("my script");
    expect(listed).not.toContain(secret);
    // A token-authenticated POST needs no CSRF token.
    const id = /action="\/account\/tokens\/(\d+)\/revoke"/.exec(listed)![1];
    // Another user cannot revoke it.
    const bob = withUser(ctx, "bob");
    expect((await app.request(`/account/tokens/${id}/revoke`, { method: "POST", headers: bob.headers })).status).toBe(404);
    expect((await app.request(`/account/tokens/${id}/revoke`, { method: "POST", headers: bearer })).status).toBe(303);
    const after = await app.request("/api/v1/datasets", { headers: bearer });
    expect(after.status).toBe(401);
    expect((await after.json()).error.message).toBe("Unknown or revoked API token");
  });

  test("scripts create, list and revoke tokens through /api/v1/tokens with Basic", async () => {
    const { app } = await setup();
    const basic = { Authorization: `Basic ${Buffer.from("alice:alice-secret-1").toString("base64")}`, "Content-Type": "application/json" };
    const created = await app.request("/api/v1/tokens", { method: "POST", headers: basic, body: JSON.stringify({ label: "nightly" }) });
    expect(created.status).toBe(201);
    const t = await created.json();
    expect(t).toMatchObject({ label: "nightly" });
    expect(t.secret).toStartWith("mata_");
    const bearer = { Authorization: `Bearer ${t.secret}` };
    const list = await (await app.request("/api/v1/tokens", { headers: bearer })).json();
    expect(list.items.map((i: { id: number; label: string }) => [i.id, i.label])).toEqual([[t.id, "nightly"]]);
    expect(JSON.stringify(list)).not.toContain(t.secret);
    expect((await app.request("/api/v1/tokens", { method: "POST", headers: basic, body: JSON.stringify({ label: "" }) })).status).toBe(400);
    expect((await app.request(`/api/v1/tokens/${t.id}`, { method: "DELETE", headers: bearer })).status).toBe(204);
    expect((await app.request("/api/v1/tokens", { headers: bearer })).status).toBe(401);
  });
});

describe("throttling and timing", () => {
  test("failed sign-ins are slowed per account; other accounts stay open", async () => {
    const { app } = await setup();
    for (let i = 0; i < 6; i++) expect((await login(app, "alice", `wrong-${i}`)).status).toBe(401);
    // Blocked now, even with the right password.
    const blocked = await login(app, "alice", "alice-secret-1");
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain("Too many failed sign-ins");
    // Other accounts are not affected.
    expect((await login(app, "root1", "root1-secret-1")).status).toBe(303);
  });

  test("failed sign-ins are slowed per address, over many names; the block expires", async () => {
    const { ctx, app } = await setup();
    let now = Date.now();
    ctx.clock = { now: () => now };
    for (let i = 0; i < 21; i++) expect((await login(app, `nobody${i}`, "x")).status).toBe(401);
    expect((await login(app, "root1", "root1-secret-1")).status).toBe(429);
    now += 2000;
    expect((await login(app, "root1", "root1-secret-1")).status).toBe(303);
    // Counters of guessed names are forgotten after the window, so they cannot pile up.
    const rows = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM login_failures").get()!.n;
    expect(rows()).toBe(22);
    now += 16 * 60_000;
    expect((await login(app, "nobody-late", "x")).status).toBe(401);
    expect(rows()).toBe(2);
  });

  test("every failure takes the failure floor; an unknown user takes as long as a known one", async () => {
    const { ctx, app } = await setup({ floorMs: 400 });
    const time = async (name: string) => {
      const t0 = performance.now();
      const res = await login(app, name, "wrong-password");
      expect(res.status).toBe(401);
      return performance.now() - t0;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time("alice"));
      unknown.push(await time(`ghost${i}`));
      ctx.db.exec("DELETE FROM login_failures");
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[1]!;
    expect(Math.min(...known, ...unknown)).toBeGreaterThanOrEqual(399);
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(60);
  });
});

describe("password change on the web", () => {
  test("needs the current password, ends other sessions and keeps this browser signed in", async () => {
    const { ctx, app } = await setup();
    const u = withUser(ctx, "alice");
    const other = withUser(ctx, "alice");
    const wrong = await app.request("/account/password", {
      ...form({ current: "nope", password: "new-secret-22", confirm: "new-secret-22" }),
      headers: { ...form({}).headers, ...u.headers },
    });
    expect(wrong.status).toBe(401);
    const ok = await app.request("/account/password", {
      ...form({ current: "alice-secret-1", password: "new-secret-22", confirm: "new-secret-22" }),
      headers: { ...form({}).headers, ...u.headers },
    });
    expect(ok.status).toBe(200);
    const fresh = sessionCookie(ok)!;
    expect(await csrfOf(ok)).toBeString();
    expect((await app.request("/account", { headers: other.headers })).status).toBe(302);
    expect((await app.request("/account", { headers: { Cookie: `mata_session=${fresh}` } })).status).toBe(200);
    expect((await login(app, "alice", "new-secret-22")).status).toBe(303);
  });
});
