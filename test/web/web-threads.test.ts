// `mata serve` with web threads (web_threads = 3): every thread listens on the port, the threads answer tiles themselves
// and hand everything else to the main thread with the client's address, and what any thread or process writes (a
// revoked grant, a changed password) is refused on the very next request, whichever thread the connection reaches.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { mkdirSync } from "node:fs";
import { runMata, startLiveServer, type LiveServer } from "../support/live-server.ts";
import { testContext } from "../support/env.ts";
import { createFetch } from "../../src/app.ts";
import { startWebThreads } from "../../src/serving/web-threads.ts";
import { volumeBytes } from "../readers/fixtures.ts";

let live: LiveServer;
let id = 0;
let tile = "";
const HEADER = "ObjectType = Image\nNDims = 3\nDimSize = 100 90 20\nElementType = MET_USHORT\nElementDataFile = vol.raw\n";
// Enough fresh connections that each of three threads gets some (the kernel picks by a hash of the client's port).
const CONNECTIONS = 48;

beforeAll(async () => {
  live = await startLiveServer({ ct: { "vol.mhd": HEADER, "vol.raw": volumeBytes("uint16", 100, 90, 20, true) } }, { env: { MATA_WEB_THREADS: "3" } });
  id = live.ids.ct!;
  const auth = { Authorization: `Bearer ${live.admin.token}` };
  for (let i = 0; i < 300; i++) {
    const r = (await (await fetch(`${live.url}/api/v1/datasets/${id}/previews`, { headers: auth })).json()) as { previews: { state: string }[] };
    if (r.previews[0]?.state === "ready") break;
    await Bun.sleep(200);
  }
  tile = `${live.url}/api/v1/datasets/${id}/previews/0/tiles/0/0-100_0-90_7-8`;
}, 90_000);
afterAll(() => live?.stop());

/** Signs in with the login form (a POST handed over by whichever thread takes it) and returns the session cookie. */
async function signIn(name: string, password: string): Promise<string> {
  const r = await fetch(`${live.url}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: live.url },
    body: new URLSearchParams({ name, password, next: "/" }),
    redirect: "manual",
  });
  expect(r.status).toBe(303);
  return /mata_session=[^;]+/.exec(r.headers.get("set-cookie") ?? "")![0];
}

/** The statuses of CONNECTIONS requests, each on a connection of its own. */
async function statuses(url: string, headers: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const r = await fetch(url, { headers, keepalive: false });
    await r.arrayBuffer();
    out.push(r.status);
  }
  return out;
}

const all = (n: number) => Array<number>(CONNECTIONS).fill(n);

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${live.url}/metrics`, { headers: { Authorization: `Bearer ${live.admin.token}` } })).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
}

describe("web threads", () => {
  test("three threads serve the port; tiles come from all of them, the same bytes, counted in /metrics", async () => {
    const health = (await (await fetch(`${live.url}/api/v1/health`)).json()) as { checks: { server: { webThreads: number } } };
    expect(health.checks.server.webThreads).toBe(3);
    const cookie = await signIn(live.admin.name, live.admin.password);
    const before = await metric("mata_web_thread_requests_total");
    const bodies = new Set<string>();
    for (let i = 0; i < CONNECTIONS; i++) {
      const r = await fetch(tile, { headers: { Cookie: cookie }, keepalive: false });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("image/jpeg");
      bodies.add(Buffer.from(await r.arrayBuffer()).toString("base64"));
    }
    expect(bodies.size).toBe(1);
    // The threads report their counts every second.
    let after = before;
    for (let i = 0; i < 30 && after === before; i++) {
      await Bun.sleep(200);
      after = await metric("mata_web_thread_requests_total");
    }
    expect(after).toBeGreaterThan(before);
  });

  test("a grant revoked through any thread is refused on the next request on every thread", async () => {
    const admin = { Authorization: `Bearer ${live.admin.token}`, "Content-Type": "application/json" };
    const cookie = await signIn(live.user.name, live.user.password);
    const grant = (viewers: string[]) =>
      fetch(`${live.url}/api/v1/datasets/${id}/access`, { method: "PUT", headers: admin, body: JSON.stringify({ viewers }) });
    expect((await grant([live.user.name])).status).toBe(200);
    expect(await statuses(tile, { Cookie: cookie })).toEqual(all(200));
    expect((await grant([])).status).toBe(200);
    expect(await statuses(tile, { Cookie: cookie })).toEqual(all(403));
  });

  test("a password changed by `mata user passwd` (another process) ends the sessions at once on every thread", async () => {
    const cookie = await signIn(live.admin.name, live.admin.password);
    expect(await statuses(tile, { Cookie: cookie })).toEqual(all(200));
    const r = await runMata(["user", "passwd", live.admin.name, "--state", live.state], { stdin: "a new long password\n" });
    expect(r.code).toBe(0);
    expect(await statuses(tile, { Cookie: cookie })).toEqual(all(401));
    live.admin.password = "a new long password";
  });

  test("handed-over requests keep the client's address; a client cannot claim another", async () => {
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${live.url}/login`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: live.url, "X-Mata-Forwarded-Client": '{"address":"6.6.6.6"}' },
        body: new URLSearchParams({ name: `nobody${i}`, password: "wrong", next: "/" }),
        keepalive: false,
      });
      expect(r.status).toBe(401);
    }
    const audit = (await (
      await fetch(`${live.url}/api/v1/audit?action=signin.failed&limit=100`, { headers: { Authorization: `Bearer ${live.admin.token}` } })
    ).json()) as {
      items: { target: string | null; actor: string; address: string | null }[];
    };
    const ours = audit.items.filter((e) => /^nobody\d+$/.test(e.actor) || /^nobody\d+$/.test(e.target ?? ""));
    expect(ours.length).toBe(6);
    expect(new Set(ours.map((e) => e.address))).toEqual(new Set(["127.0.0.1"]));
  });

  test("downloads and ranges handed over by any thread stream whole, as the main thread sends them", async () => {
    const raw = volumeBytes("uint16", 100, 90, 20, true);
    const auth = { Authorization: `Bearer ${live.user.token}` };
    const admin = { Authorization: `Bearer ${live.admin.token}`, "Content-Type": "application/json" };
    await fetch(`${live.url}/api/v1/datasets/${id}/access`, { method: "PUT", headers: admin, body: JSON.stringify({ viewers: [live.user.name] }) });
    for (let i = 0; i < 12; i++) {
      const whole = await fetch(`${live.url}/api/v1/datasets/${id}/files/vol.raw?download`, { headers: auth, keepalive: false });
      expect(whole.status).toBe(200);
      expect(whole.headers.get("content-disposition")).toContain("vol.raw");
      expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(raw))).toBe(true);
      const part = await fetch(`${live.url}/api/v1/datasets/${id}/files/vol.raw`, { headers: { ...auth, Range: "bytes=1000-1999" }, keepalive: false });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(raw.subarray(1000, 2000)))).toBe(true);
    }
  });

  test("a stop ends the threads and removes the hand-over socket", async () => {
    expect(existsSync(path.join(live.state, "web.sock"))).toBe(true);
    process.kill(live.pid, "SIGTERM");
    expect(await live.exited).toBe(0);
    expect(existsSync(path.join(live.state, "web.sock"))).toBe(false);
  });
});

test("a state dir too deep for the hand-over socket serves from the main thread alone", async () => {
  const probe = testContext();
  const state = path.join(probe.dir, "a-state-dir-whose-path-is-longer-than-a-unix-socket-may-name".repeat(2));
  mkdirSync(state, { recursive: true });
  const ctx = testContext({ state });
  try {
    const threads = await startWebThreads(ctx, createFetch(ctx), 0, 2);
    expect(threads.count).toBe(0);
    expect(existsSync(path.join(state, "web.sock"))).toBe(false);
    await threads.stop(100);
  } finally {
    ctx.cleanup();
    probe.cleanup();
  }
});
