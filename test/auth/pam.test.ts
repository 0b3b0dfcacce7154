// PAM sign-in with real unix users (made and removed by the test) and the test's own PAM service file.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createApp } from "../../src/app.ts";
import { configureAuth, closeAuth } from "../../src/auth/auth.runtime.ts";
import { setSharePassword } from "../../src/auth/share-password.ts";
import { testContext } from "../support/env.ts";
import { createUnixGroup, createUnixUser, writePamService, writePassdbConf, type UnixUser } from "../support/unix-users.ts";
import path from "node:path";
import { readdirSync, readFileSync } from "node:fs";

// Real password hashing and real services: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

const FLOOR = 300;
let ctx: ReturnType<typeof testContext>;
let app: ReturnType<typeof createApp>;
let smbConf: string;
const removers: (() => void)[] = [];
let admins: { name: string; remove(): void };
let lab: { name: string; remove(): void };
let alice: UnixUser;
let boss: UnixUser;
let expired: UnixUser;

beforeAll(() => {
  admins = createUnixGroup("adm");
  lab = createUnixGroup("lab");
  removers.push(admins.remove, lab.remove);
  alice = createUnixUser("al", { groups: [lab.name] });
  boss = createUnixUser("bo", { groups: [admins.name] });
  expired = createUnixUser("ex", { expired: true });
  removers.unshift(alice.remove, boss.remove, expired.remove);
  ctx = testContext({ auth: "pam", adminGroup: admins.name });
  const pam = writePamService(ctx.dir);
  smbConf = writePassdbConf(path.join(ctx.dir, "samba"));
  configureAuth(ctx, { pamService: pam.service, pamConfdir: pam.confdir, failureFloorMs: FLOOR, smbConf });
  app = createApp(ctx);
});

afterAll(() => {
  closeAuth(ctx);
  ctx.cleanup();
  for (const r of removers) r();
});

const login = (name: string, password: string) =>
  app.request("/login", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ name, password, next: "/account" }).toString(),
  });
const cookieOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((s) => s.startsWith("mata_session="))
    ?.split(";")[0];
const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });
const ntHash = (pw: string) => new Bun.CryptoHasher("md4" as never).update(Buffer.from(pw, "utf16le")).digest("hex").toUpperCase();

describe("PAM backend", () => {
  test("right password signs in with the user's unix groups; the admin group makes an admin", async () => {
    const res = await login(alice.name, alice.password);
    expect(res.status).toBe(303);
    const page = await (await app.request("/account", { headers: { Cookie: cookieOf(res)! } })).text();
    expect(page).toContain(`Account ${alice.name}`);
    expect(page).toContain(lab.name);
    expect(page).not.toContain("Administrator.");
    const b = await login(boss.name, boss.password);
    const bossPage = await (await app.request("/account", { headers: { Cookie: cookieOf(b)! } })).text();
    expect(bossPage).toContain("Administrator.");
  });

  test("wrong password and unknown user are refused alike, after the failure floor and not pam_unix's 2 s", async () => {
    const times: Record<string, number[]> = { wrong: [], unknown: [] };
    for (let i = 0; i < 3; i++) {
      for (const [kind, name] of [
        ["wrong", alice.name],
        ["unknown", `mt_nobody_${i}`],
      ] as const) {
        const t0 = performance.now();
        const res = await login(name, "not-the-password");
        times[kind]!.push(performance.now() - t0);
        expect(res.status).toBe(401);
        expect(await res.text()).toContain("Wrong account name or password");
      }
      ctx.db.exec("DELETE FROM login_failures");
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[1]!;
    for (const t of [...times.wrong!, ...times.unknown!]) {
      expect(t).toBeGreaterThanOrEqual(FLOOR - 1);
      expect(t).toBeLessThan(1500);
    }
    expect(Math.abs(med(times.wrong!) - med(times.unknown!))).toBeLessThan(80);
  });

  test("an expired account is refused even with the right password, and says so", async () => {
    const res = await login(expired.name, expired.password);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("This account has expired");
    expect(cookieOf(res)).toBeUndefined();
  });

  test("HTTP Basic checks the password through PAM", async () => {
    expect((await app.request("/account", { headers: basic(alice.name, alice.password) })).status).toBe(200);
    const bad = await app.request("/api/v1/datasets", { headers: basic(alice.name, "wrong") });
    expect(bad.status).toBe(401);
  });

  test("changing the password on the web sets the unix password and the Samba NT hash together", async () => {
    const res = await login(alice.name, alice.password);
    const cookie = cookieOf(res)!;
    const page = await (await app.request("/account", { headers: { Cookie: cookie } })).text();
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)![1]!;
    const next = "New-pass-" + Math.random().toString(36).slice(2);
    const changed = await app.request("/account/password", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
      body: new URLSearchParams({ _csrf: csrf, current: alice.password, password: next, confirm: next }).toString(),
    });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain("Password changed");
    expect((await login(alice.name, alice.password)).status).toBe(401);
    expect((await login(alice.name, next)).status).toBe(303);
    const pdb = Bun.spawnSync(["pdbedit", "-s", smbConf, "-L", "-w", "-u", alice.name], { stdout: "pipe", stderr: "pipe" });
    expect(pdb.exitCode).toBe(0);
    expect(pdb.stdout.toString().split(":")[3]).toBe(ntHash(next));
    alice.password = next;
  });

  test("setSharePassword refuses bad names and passwords before touching the system", async () => {
    await expect(setSharePassword("-rf", "Long-enough-1", smbConf)).rejects.toThrow(/not a valid unix user name/);
    await expect(setSharePassword(alice.name, "short", smbConf)).rejects.toThrow(/at least 8 characters/);
    await expect(setSharePassword(alice.name, "line\nbreak-pw", smbConf)).rejects.toThrow(/line breaks/);
    await expect(setSharePassword("mt_no_such_user", "Long-enough-1", smbConf)).rejects.toThrow(/Changing the unix password of mt_no_such_user failed/);
  });

  test("fifty parallel sign-ins do not stall the event loop", async () => {
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => login(boss.name, boss.password)));
    const took = performance.now() - t0;
    clearInterval(timer);
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(303));
    // The checks ran on the worker threads: the main thread kept ticking all along.
    expect(maxGap).toBeLessThan(Math.min(150, took / 4));
  }, 60_000);

  test("the PAM worker threads run at nice 10, so hashing yields to the request thread", async () => {
    expect((await login(boss.name, boss.password)).status).toBe(303);
    const nices = readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // Fields after the ")" closing the thread name: state is field 3, nice is field 19.
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    });
    expect(nices.filter((n) => n === 10).length).toBeGreaterThanOrEqual(2);
    expect(nices.filter((n) => n === 0).length).toBeGreaterThanOrEqual(1);
  });

  test("with no failure floor at all, an unknown user still holds a PAM worker as long as a known user's hash check", async () => {
    const c2 = testContext({ auth: "pam", adminGroup: admins.name });
    const pam = writePamService(c2.dir);
    configureAuth(c2, { pamService: pam.service, pamConfdir: pam.confdir, failureFloorMs: 0, pamWorkers: 1 });
    const app2 = createApp(c2);
    try {
      const attempt = async (name: string) => {
        c2.db.exec("DELETE FROM login_failures");
        const t0 = performance.now();
        const res = await app2.request("/api/v1/datasets", { headers: basic(name, "not-the-password") });
        expect(res.status).toBe(401);
        return performance.now() - t0;
      };
      await attempt(alice.name); // the worker learns what a known user costs
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        known.push(await attempt(alice.name));
        unknown.push(await attempt(`mt_ghost_${i}`));
      }
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[2]!;
      // Without the equalising wait an unknown user answers in about 1 ms, a known one after a full hash.
      expect(med(unknown)).toBeGreaterThan(med(known) * 0.6);
      expect(med(unknown)).toBeLessThan(med(known) * 1.6);
    } finally {
      closeAuth(c2);
      c2.cleanup();
    }
  });
});
