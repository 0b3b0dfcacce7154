// Walks every route the app has (whoever added it): no account means 401 or the login page; no CSRF token means 403.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { hashPassword } from "../../src/auth/password.ts";
import { openDatabase } from "../../src/db/database.ts";
import { tempDir, testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";

// Real password hashing and real services: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const OPEN = [/^\/api\/v1\/health$/, /^\/static\//, /^\/login$/];

/** Every concrete route of the app with its parameters filled in (":id" -> 1, wildcards -> a file name). */
function allRoutes(app: ReturnType<typeof createApp>): { method: string; url: string }[] {
  const seen = new Set<string>();
  const out: { method: string; url: string }[] = [];
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    const url = r.path
      .replace(/:[A-Za-z_]+\{[^}]*\}/g, (m) => (m.includes("64") ? "a".repeat(64) : "1"))
      .replace(/:[A-Za-z_]+/g, "1")
      .replace(/\*/g, "scan.tif");
    const key = `${r.method} ${url}`;
    if (!seen.has(key) && !OPEN.some((o) => o.test(url))) {
      seen.add(key);
      out.push({ method: r.method, url });
    }
  }
  return out;
}

describe("every route", () => {
  test("unauthenticated: 401 JSON under /api and for /metrics (programs), a redirect to the login page otherwise", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const app = createApp(ctx);
    const routes = allRoutes(app);
    expect(routes.length).toBeGreaterThan(3);
    for (const { method, url } of routes) {
      const res = await app.request(url, { method });
      const where = `${method} ${url}`;
      if (url.startsWith("/api/") || url === "/metrics") {
        expect([where, res.status]).toEqual([where, 401]);
        expect([where, (await res.json()).error.code]).toEqual([where, "unauthorized"]);
      } else {
        expect([where, res.status]).toEqual([where, 302]);
        expect([where, res.headers.get("Location")?.startsWith("/login?next=")]).toEqual([where, true]);
      }
    }
  });

  test("wrong credentials of every kind are 401, never a pass", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const app = createApp(ctx);
    const kinds: Record<string, string>[] = [
      { Authorization: "Bearer mata_forged" },
      { Authorization: "Bearer " },
      { Authorization: "Negotiate abc" },
      { Authorization: "Digest x" },
      { Cookie: "mata_session=forged" },
    ];
    for (const headers of kinds) {
      expect((await app.request("/api/v1/datasets", { headers })).status).toBe(401);
    }
  });

  test("cookie-authenticated state-changing requests without the CSRF token are 403 on every route", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const app = createApp(ctx);
    const admin = withUser(ctx, "boss", { admin: true });
    const unsafe = allRoutes(app).filter((r) => r.method !== "GET");
    expect(unsafe.length).toBeGreaterThan(2);
    for (const { method, url } of unsafe) {
      const variants: Record<string, string>[] = [{ Cookie: admin.cookie }, { Cookie: admin.cookie, "X-CSRF-Token": "wrong" }];
      for (const headers of variants) {
        const res = await app.request(url, { method, headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" }, body: "a=b" });
        expect([`${method} ${url}`, res.status]).toEqual([`${method} ${url}`, 403]);
      }
    }
  });
});

describe("TLS", () => {
  test("mata serve --tls-cert/--tls-key serves HTTPS, and the session cookie is Secure", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    const ssl = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(ssl.exitCode).toBe(0);
    const root = path.join(dir, "root");
    const state = path.join(dir, "state");
    mkdirSync(root);
    const db = openDatabase(path.join(state, "mata.db"));
    accountsRepo(db).add("alice", await hashPassword("alice-secret-1"), false, Date.now());
    db.close();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const main = path.resolve(import.meta.dir, "../../src/main.ts");
    const proc = Bun.spawn(
      [process.execPath, main, "serve", "--root", root, "--state", state, "--listen", `127.0.0.1:${port}`, "--tls-cert", cert, "--tls-key", key],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    cleanups.push(async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    });
    const base = `https://127.0.0.1:${port}`;
    const tls = { rejectUnauthorized: false };
    let health: Response | null = null;
    for (let i = 0; i < 200 && !health; i++) {
      health = await fetch(`${base}/api/v1/health`, { tls }).catch(() => null);
      if (!health) await Bun.sleep(50);
    }
    expect(health?.status).toBe(200);
    // Plain HTTP on the TLS port is not served.
    expect(
      await fetch(`http://127.0.0.1:${port}/api/v1/health`).then(
        (r) => r.status,
        () => "refused",
      ),
    ).not.toBe(200);
    // On fresh connections, so the web threads (TLS too) take some of them and hand the sign-ins to the main thread.
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${base}/login`, {
        method: "POST",
        tls,
        keepalive: false,
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "alice", password: "alice-secret-1" }).toString(),
      });
      expect(res.status).toBe(303);
      const set = res.headers.getSetCookie().find((s) => s.startsWith("mata_session="))!;
      expect(set).toMatch(/; Secure/);
      expect(set).toMatch(/; HttpOnly/);
    }
  }, 30_000);

  test("--tls-cert without --tls-key, or a missing file, is refused with a clear message", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    writeFileSync(path.join(dir, "c.pem"), "x");
    const main = path.resolve(import.meta.dir, "../../src/main.ts");
    const run = (args: string[]) =>
      Bun.spawnSync([process.execPath, main, "serve", "--root", dir, "--state", path.join(dir, "s"), "--listen", "127.0.0.1:0", ...args], {
        stdout: "pipe",
        stderr: "pipe",
      });
    const half = run(["--tls-cert", path.join(dir, "c.pem")]);
    expect(half.exitCode).toBe(2);
    expect(half.stderr.toString()).toContain("--tls-cert and --tls-key go together");
    const missing = run(["--tls-cert", path.join(dir, "c.pem"), "--tls-key", path.join(dir, "nope.pem")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain("nope.pem does not exist");
  }, 30_000);
});
