// Cross-site request forgery with ambient credentials. A browser attaches the session cookie, cached Basic
// credentials and a Kerberos ticket (Negotiate) to a cross-site form post by itself, so the attack page only
// has to post a form: here it shares Ann's dataset with Mallory. Every request goes through a real socket; the
// Negotiate ones through curl with a real ticket from a throwaway KDC. Only a Bearer token is exempt.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { closeAuth, configureAuth } from "../../src/auth/auth.runtime.ts";
import { hashPassword } from "../../src/auth/password.ts";
import { createToken } from "../../src/auth/token.service.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { startKdc, type TestKdc } from "../support/kdc.ts";

setDefaultTimeout(60_000);

const EVIL = "https://evil.example";
let ctx: ReturnType<typeof testContext>;
let kdc: TestKdc;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let id = 0;
let kerberosEnv: Record<string, string> = {};
const saved: Record<string, string | undefined> = {};
const basic = `Basic ${btoa("ann:ann-secret-1")}`;

beforeAll(async () => {
  ctx = testContext();
  kdc = await startKdc(ctx.dir);
  const keytab = path.join(ctx.dir, "http.keytab");
  kdc.addService("HTTP/localhost", keytab);
  kdc.addUser("ann", "Ann-kerberos-1");
  for (const k of ["KRB5_CONFIG", "KRB5RCACHEDIR"]) saved[k] = process.env[k];
  process.env.KRB5_CONFIG = kdc.env.KRB5_CONFIG;
  process.env.KRB5RCACHEDIR = kdc.dir;
  ctx.config.kerberos = { keytab };
  configureAuth(ctx, { failureFloorMs: 30 });
  accountsRepo(ctx.db).add("ann", await hashPassword("ann-secret-1"), false, Date.now());
  accountsRepo(ctx.db).add("mallory", await hashPassword("mallory-secret-1"), false, Date.now());
  id = putDataset(ctx, "ann-scan", { "a.txt": "private" }, { owner: "ann", title: "Ann's scan" });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createApp(ctx).fetch });
  base = `http://localhost:${server.port}`;
  kerberosEnv = kdc.kinit("ann", "Ann-kerberos-1");
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

const grants = () =>
  ctx.db
    .query<{ principal: string }, [number]>("SELECT principal FROM grants WHERE dataset_id = ? ORDER BY principal")
    .all(id)
    .map((r) => r.principal);
const reset = () => ctx.db.query("DELETE FROM grants WHERE dataset_id = ?").run(id);

/** What the attack page's form sends: share the dataset with Mallory as an editor. */
const SHARE_FORM = new URLSearchParams({ op: "add", name: "mallory", role: "editor" }).toString();

/** The status of the attack page's form post: 403 when refused, 303 (back to the dataset page) when accepted. */
async function postShare(headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${base}/datasets/${id}/sharing`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: SHARE_FORM,
  });
  await res.arrayBuffer();
  return res.status;
}

/** curl with a Kerberos ticket (--negotiate), as a browser holding one answers the server's challenge by itself. */
async function curlNegotiate(args: string[]): Promise<number> {
  const proc = Bun.spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--negotiate", "-u", ":", ...args], {
    env: { ...process.env, ...kerberosEnv },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`curl failed (${code}): ${err}`);
  return Number(out.trim());
}

describe("HTTP Basic (credentials the browser cached)", () => {
  test("a cross-site form post (Origin: evil) is refused 403 and changes no grant", async () => {
    reset();
    expect(await postShare({ Authorization: basic, Origin: EVIL })).toBe(403);
    expect(grants()).toEqual([]);
  });

  test("without Origin, a Referer of another site is refused; so are Sec-Fetch-Site cross-site and Origin: null", async () => {
    reset();
    expect(await postShare({ Authorization: basic, Referer: `${EVIL}/attack.html` })).toBe(403);
    expect(await postShare({ Authorization: basic, "Sec-Fetch-Site": "cross-site" })).toBe(403);
    expect(await postShare({ Authorization: basic, Origin: "null" })).toBe(403);
    // A look-alike host is another site.
    expect(await postShare({ Authorization: basic, Origin: `http://localhost.evil.example:${server.port}` })).toBe(403);
    expect(grants()).toEqual([]);
  });

  test("the JSON API refuses a Basic PUT from another site too", async () => {
    reset();
    const res = await fetch(`${base}/api/v1/datasets/${id}/access`, {
      method: "PUT",
      headers: { Authorization: basic, Origin: EVIL, "Content-Type": "application/json" },
      body: JSON.stringify({ viewers: [], editors: ["mallory"] }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("csrf");
    expect(grants()).toEqual([]);
  });

  test("scripts keep working: no Origin and no Referer (curl, python requests) passes, so does this site's own Origin", async () => {
    reset();
    expect(await postShare({ Authorization: basic })).toBe(303);
    expect(grants()).toEqual(["user:mallory"]);
    reset();
    expect(await postShare({ Authorization: basic, Origin: base, "Sec-Fetch-Site": "same-origin" })).toBe(303);
    expect(await postShare({ Authorization: basic, Referer: `${base}/datasets/${id}` })).toBe(303);
    // Reads are never refused, whatever site links to them.
    expect((await fetch(`${base}/api/v1/datasets/${id}`, { headers: { Authorization: basic, Origin: EVIL } })).status).toBe(200);
  });
});

describe("Kerberos (Negotiate: the browser answers the challenge with its ticket by itself)", () => {
  test("a cross-site form post with a real ticket is refused 403; the same post with no Origin passes", async () => {
    reset();
    const url = `${base}/datasets/${id}/sharing`;
    expect(await curlNegotiate(["-H", `Origin: ${EVIL}`, "-d", SHARE_FORM, url])).toBe(403);
    expect(grants()).toEqual([]);
    expect(await curlNegotiate(["-H", "Sec-Fetch-Site: cross-site", "-d", SHARE_FORM, url])).toBe(403);
    expect(grants()).toEqual([]);
    expect(await curlNegotiate(["-d", SHARE_FORM, url])).toBe(303);
    expect(grants()).toEqual(["user:mallory"]);
  });
});

describe("session cookie", () => {
  test("still needs the CSRF token, and a right token from another site's page is refused too", async () => {
    reset();
    const ann = withUser(ctx, "ann");
    expect(await postShare({ Cookie: ann.cookie })).toBe(403);
    expect(await postShare({ Cookie: ann.cookie, Origin: base })).toBe(403);
    expect(await postShare({ ...ann.headers, Origin: EVIL })).toBe(403);
    expect(grants()).toEqual([]);
    expect(await postShare({ ...ann.headers, Origin: base })).toBe(303);
    expect(grants()).toEqual(["user:mallory"]);
  });
});

describe("what stays open", () => {
  test("a Bearer token (no browser sends one by itself) is exempt", async () => {
    reset();
    const { secret } = createToken(ctx, "ann", "script");
    expect(await postShare({ Authorization: `Bearer ${secret}`, Origin: EVIL })).toBe(303);
    expect(grants()).toEqual(["user:mallory"]);
  });

  test("a sign-in from another site, or from an opaque origin, is refused", async () => {
    for (const origin of [EVIL, "null"]) {
      const res = await fetch(`${base}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
        body: new URLSearchParams({ name: "ann", password: "ann-secret-1", next: "/" }).toString(),
      });
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
    }
  });
});
