// Parallel password guessing: 40 wrong sign-ins sent at once over a real socket. Each attempt reserves one of the
// remaining free tries before the password check, so only those (5 per account, 20 per address, and the one that
// sets the block) reach the backend; the rest get 429. Before the fix all 40 were checked and answered 401.
import { afterEach, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { configureAuth } from "../../src/auth/auth.runtime.ts";
import { hashPassword } from "../../src/auth/password.ts";
import { serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

async function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const rt = configureAuth(ctx, { failureFloorMs: 200 });
  accountsRepo(ctx.db).add("alice", await hashPassword("alice-secret-1"), false, Date.now());
  // Counts the password checks the backend really makes.
  const checks = { n: 0 };
  const verify = rt.backend.verify.bind(rt.backend);
  rt.backend.verify = (...args) => {
    checks.n++;
    return verify(...args);
  };
  const server = serveApp(createApp(ctx));
  cleanups.push(server.stop);
  return { ctx, url: server.url, checks };
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

test("40 parallel wrong Basic sign-ins: at most the free tries get a password check, the rest 429", async () => {
  const { url, checks } = await setup();
  const statuses = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      fetch(`${url}/api/v1/datasets`, { headers: { Authorization: `Basic ${btoa(`alice:guess-${i}`)}` } }).then(async (r) => (await r.arrayBuffer(), r.status)),
    ),
  );
  const t = tally(statuses);
  // 5 free failures, then the 6th sets the block; every later one is refused before any check.
  expect(t[401]).toBeLessThanOrEqual(6);
  expect(t[429]).toBeGreaterThanOrEqual(34);
  expect(checks.n).toBeLessThanOrEqual(6);
});

test("40 parallel wrong login-form posts for many names from one address: the address limit holds too", async () => {
  const { url, checks } = await setup();
  const statuses = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      fetch(`${url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: url },
        body: new URLSearchParams({ name: `user${i}`, password: "guess", next: "/" }).toString(),
      }).then(async (r) => (await r.arrayBuffer(), r.status)),
    ),
  );
  const t = tally(statuses);
  // 20 free per address, the 21st sets the block.
  expect(t[401]).toBeLessThanOrEqual(21);
  expect(t[429]).toBeGreaterThanOrEqual(19);
  expect(checks.n).toBeLessThanOrEqual(21);
});

test("a script's 20 parallel requests with the right password all pass (they wait for a slot, none is refused)", async () => {
  const { url } = await setup();
  const statuses = await Promise.all(
    Array.from({ length: 20 }, () =>
      fetch(`${url}/api/v1/datasets`, { headers: { Authorization: `Basic ${btoa("alice:alice-secret-1")}` } }).then(
        async (r) => (await r.arrayBuffer(), r.status),
      ),
    ),
  );
  expect(tally(statuses)).toEqual({ 200: 20 });
});
