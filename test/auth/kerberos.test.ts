// Kerberos SPNEGO on the web with a throwaway MIT KDC: `curl --negotiate` signs in, no ticket falls back to the form.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { closeAuth, configureAuth } from "../../src/auth/auth.runtime.ts";
import { testContext } from "../support/env.ts";
import { startKdc, type TestKdc } from "../support/kdc.ts";

// Real password hashing and real services: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

let ctx: ReturnType<typeof testContext>;
let kdc: TestKdc;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let keytabPath: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  ctx = testContext();
  kdc = await startKdc(ctx.dir);
  const keytab = path.join(ctx.dir, "http.keytab");
  keytabPath = keytab;
  kdc.addService("HTTP/localhost", keytab);
  kdc.addService("HTTP/other.test", keytab);
  kdc.addUser("kuser", "Kuser-pass-1");
  kdc.addUser("stranger", "Stranger-pass-1");
  accountsRepo(ctx.db).add("kuser", null, false, Date.now());
  // The acceptor reads the realm mapping from KRB5_CONFIG; openNegotiator copies KRB5_* into the C environment.
  for (const k of ["KRB5_CONFIG", "KRB5RCACHEDIR"]) saved[k] = process.env[k];
  process.env.KRB5_CONFIG = kdc.env.KRB5_CONFIG;
  process.env.KRB5RCACHEDIR = kdc.dir;
  ctx.config.kerberos = { keytab };
  configureAuth(ctx, { failureFloorMs: 30 });
  const app = createApp(ctx);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  base = `http://localhost:${server.port}`;
});

afterAll(async () => {
  server?.stop(true);
  await kdc?.stop();
  closeAuth(ctx);
  ctx.cleanup();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** Runs curl with the given Kerberos client env; returns status, headers and body. */
async function curl(args: string[], env: Record<string, string>): Promise<{ status: number; headers: string; body: string }> {
  const proc = Bun.spawn(["curl", "-sS", "-D", "-", ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`curl failed (${code}): ${err}`);
  // With --negotiate curl prints the headers of both legs; the last block is the answer.
  const blocks = out.split(/\r\n\r\n/);
  const lastHeaderIdx = blocks.map((b) => b.startsWith("HTTP/")).lastIndexOf(true);
  const headers = blocks[lastHeaderIdx]!;
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)![1]), headers, body: blocks.slice(lastHeaderIdx + 1).join("\r\n\r\n") };
}

describe("Kerberos SPNEGO", () => {
  test("curl --negotiate with a ticket signs in to a page and gets a session cookie", async () => {
    const env = kdc.kinit("kuser", "Kuser-pass-1");
    const r = await curl(["--negotiate", "-u", ":", `${base}/account`], env);
    expect(r.status).toBe(200);
    expect(r.body).toContain("Account kuser");
    const cookie = /set-cookie: (mata_session=[^;]+)/i.exec(r.headers)?.[1];
    expect(cookie).toBeString();
    expect(r.headers).toMatch(/set-cookie: mata_session=[^\r\n]*HttpOnly/i);
    // The session then works without Kerberos.
    const page = await fetch(`${base}/account`, { headers: { Cookie: cookie! }, redirect: "manual" });
    expect(page.status).toBe(200);
  });

  test("the JSON API accepts Negotiate per request, without a cookie", async () => {
    const env = kdc.kinit("kuser", "Kuser-pass-1");
    const r = await curl(["--negotiate", "-u", ":", `${base}/api/v1/nothing-here`], env);
    // Signed in, so the answer is the route's own 404, not a 401.
    expect(r.status).toBe(404);
    expect(r.headers).not.toMatch(/set-cookie/i);
  });

  test("without a ticket a page answers 401 Negotiate with the login form as its body", async () => {
    const res = await fetch(`${base}/account`, { redirect: "manual" });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe("Negotiate");
    const html = await res.text();
    expect(html).toContain('action="/login"');
    const api = await fetch(`${base}/api/v1/datasets`);
    expect(api.status).toBe(401);
    expect(api.headers.get("WWW-Authenticate")).toContain("Negotiate");
  });

  test("a valid ticket for a principal without an account here is refused", async () => {
    const env = kdc.kinit("stranger", "Stranger-pass-1");
    const r = await curl(["--negotiate", "-u", ":", `${base}/api/v1/datasets`], env);
    expect(r.status).toBe(401);
    expect(r.body).toContain("Kerberos principal stranger@MATA.TEST has no account here");
  });

  test("a forged token is refused", async () => {
    const res = await fetch(`${base}/account`, {
      headers: { Authorization: `Negotiate ${Buffer.from("not a ticket").toString("base64")}` },
      redirect: "manual",
    });
    expect(res.status).toBe(401);
  });

  test("with kerberos.service set, only tickets for that service are accepted", async () => {
    const c2 = testContext();
    c2.config.kerberos = { keytab: keytabPath, service: "HTTP/other.test" };
    accountsRepo(c2.db).add("kuser", null, false, Date.now());
    configureAuth(c2, { failureFloorMs: 30 });
    const s2 = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createApp(c2).fetch });
    try {
      const env = kdc.kinit("kuser", "Kuser-pass-1");
      // A ticket for HTTP/localhost (another key in the same keytab) is refused here.
      const wrongService = await curl(["--negotiate", "-u", ":", `http://localhost:${s2.port}/api/v1/nothing-here`], env);
      expect(wrongService.status).toBe(401);
      const right = await curl(
        ["--negotiate", "-u", ":", "--connect-to", `other.test:${s2.port}:127.0.0.1:${s2.port}`, `http://other.test:${s2.port}/api/v1/nothing-here`],
        env,
      );
      expect(right.status).toBe(404);
      c2.config.kerberos = { keytab: keytabPath, service: "not a service" };
      expect(() => configureAuth(c2)).toThrow(/service must look like HTTP\/host/);
    } finally {
      s2.stop(true);
      closeAuth(c2);
      c2.cleanup();
    }
  });
});
