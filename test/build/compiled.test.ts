// The executable alone in an empty folder: builds it, serves, answers health, a static asset and pages,
// and makes sharp do real work in a worker (mata doctor), with no node_modules anywhere near it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { cpus } from "node:os";
import sharp from "sharp";
import { tempDir } from "../support/env.ts";
import type { DoctorReport } from "../../src/doctor/doctor.service.ts";
import { DEMO_METADATA } from "../../src/demo/demo.ts";
import { ASSETS } from "../../src/web/assets.ts";

const PROJECT = path.resolve(import.meta.dir, "../..");
const tmp = tempDir("mata-build-");
const buildDir = path.join(tmp.dir, "build");
const alone = path.join(tmp.dir, "alone");
const cache = path.join(tmp.dir, "cache");
const root = path.join(tmp.dir, "root");
const state = path.join(tmp.dir, "state");
const exe = path.join(alone, "mata");
// No node_modules, no bun on PATH, a cache dir of the test's own: nothing may leak in from the checkout.
const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: tmp.dir, MATA_CACHE_DIR: cache, MATA_LOG: "warn" };
let server: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
let baseUrl = "";

async function run(args: string[], stdin?: string, cwd = alone, extraEnv: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([exe, ...args], {
    cwd,
    env: { ...env, ...extraEnv },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** Reads the server's stdout until it names its URL (it listens on a port the OS chose). */
async function waitForUrl(p: NonNullable<typeof server>, ms: number): Promise<string> {
  const reader = p.stdout.getReader();
  const deadline = Date.now() + ms;
  let text = "";
  while (Date.now() < deadline) {
    const r = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => ({ done: true, value: undefined }))]);
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
    const m = /serving .* at (http:\/\/\S+)/.exec(text);
    if (m) {
      reader.releaseLock();
      return m[1]!;
    }
  }
  throw new Error(`mata serve did not report its URL within ${ms} ms; stdout: ${text}; stderr: ${await new Response(p.stderr).text()}`);
}

beforeAll(async () => {
  mkdirSync(alone);
  mkdirSync(root);
  mkdirSync(path.join(root, "scan-001"));
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts", "--outfile", path.join(buildDir, "mata")], {
    cwd: PROJECT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  copyFileSync(path.join(buildDir, "mata"), exe);
  Bun.spawnSync(["chmod", "755", exe]);
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    process.kill(server.pid, "SIGKILL");
    await server.exited;
  }
  tmp.cleanup();
});

test("the executable copied alone into an empty folder serves health, embedded assets and pages, and stops on SIGTERM", async () => {
  server = Bun.spawn([exe, "serve", "--root", root, "--state", state, "--listen", "127.0.0.1:0"], { cwd: alone, env, stdout: "pipe", stderr: "pipe" });
  baseUrl = await waitForUrl(server, 20_000);

  const health = await fetch(`${baseUrl}/api/v1/health`);
  expect(health.status).toBe(200);
  // Its web threads started from the embedded worker (the default: one per core, up to 4).
  expect(await health.json()).toMatchObject({ ok: true, version: expect.any(String), checks: { server: { webThreads: Math.min(4, cpus().length) } } });

  // Embedded static files, byte for byte the ones in the checkout.
  const css = await fetch(`${baseUrl}/static/app.css`);
  expect(css.status).toBe(200);
  expect(css.headers.get("content-type")).toContain("text/css");
  expect(await css.text()).toBe(readFileSync(path.join(PROJECT, "static/app.css"), "utf8"));
  // Every registered asset (run from source, ASSETS holds the files on disk), byte for byte.
  expect(Object.keys(ASSETS).length).toBeGreaterThan(5);
  for (const [rel, file] of Object.entries(ASSETS)) {
    const res = await fetch(`${baseUrl}/static/${rel}`);
    expect(res.status, rel).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(file)), rel).toBe(true);
  }

  // A template rendered by the executable (hono/jsx compiled in).
  const login = await fetch(`${baseUrl}/login`);
  expect(login.status).toBe(200);
  const html = await login.text();
  expect(html).toContain("<!DOCTYPE html>");
  expect(html).toContain('name="password"');
  expect(html).toContain("/static/app.css");

  // A signed-in page listing the dataset the scanner found (the account is made with the executable too).
  const add = await run(["user", "add", "admin1", "--admin", "--state", state], "correct horse battery\n");
  expect(add.code, add.err).toBe(0);
  const auth = { Authorization: `Basic ${btoa("admin1:correct horse battery")}` };
  let listing = "";
  for (let i = 0; i < 50 && !listing.includes("scan-001"); i++) {
    const res = await fetch(`${baseUrl}/api/v1/datasets`, { headers: auth });
    expect(res.status).toBe(200);
    listing = await res.text();
    if (!listing.includes("scan-001")) await Bun.sleep(200);
  }
  expect(listing).toContain("scan-001");
  const page = await fetch(`${baseUrl}/`, { headers: auth });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("scan-001");

  process.kill(server.pid, "SIGTERM");
  expect(await server.exited).toBe(0);
}, 45_000);

test("mata doctor --json from the executable: sharp makes real images in a worker from the unpacked native files", async () => {
  const r = await run(["doctor", "--json", "--root", root, "--state", state]);
  const report = JSON.parse(r.out) as DoctorReport;
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  expect(byName.sharp?.status, byName.sharp?.detail).toBe("ok");
  expect(report.compiled).toBe(true);
  const sharp = byName.sharp!.data as { vips: string; jpegBytes: number; pngBytes: number; inWorker: boolean; nativeDir: string };
  expect(sharp.inWorker).toBe(true);
  expect(sharp.vips).toMatch(/^\d+\.\d+\.\d+$/);
  expect(sharp.jpegBytes).toBeGreaterThan(1000);
  expect(sharp.pngBytes).toBeGreaterThan(sharp.jpegBytes);
  expect(sharp.nativeDir.startsWith(cache + path.sep)).toBe(true);
  expect(byName.state?.status).toBe("ok");
  expect(byName.sqlite?.status).toBe("ok");
  expect(byName.sqlite?.data?.databaseJournalMode).toBe("wal");
  expect(byName.root?.status).toBe("ok");
  expect(r.code).toBe(report.ok ? 0 : 1);
  // The folder still holds only the executable: the native files went to the cache dir.
  expect(readdirSync(alone)).toEqual(["mata"]);

  // An unreadable root is an essential failure: exit 1 and the check names it.
  const bad = await run(["doctor", "--json", "--root", path.join(tmp.dir, "no-such-root"), "--state", state]);
  expect(bad.code).toBe(1);
  const badReport = JSON.parse(bad.out) as DoctorReport;
  expect(badReport.ok).toBe(false);
  expect(badReport.checks.find((c) => c.name === "root")).toMatchObject({ status: "fail", detail: expect.stringContaining("no-such-root") });
}, 30_000);

test("an unexpected error in the executable is one line, never the bundle's source", async () => {
  const tooLong = path.join(tmp.dir, ...Array.from({ length: 20 }, () => "e".repeat(250)), "b.db");
  const r = await run(["backup", tooLong, "--state", state]);
  expect(r.code).toBe(1);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(r.err).toStartWith("mata backup: ");
}, 30_000);

test("with no root the executable seeds the demo under ./mata-data, lists its datasets and builds a CT preview", async () => {
  const cwd = path.join(tmp.dir, "demo-cwd");
  mkdirSync(cwd);
  const demo = Bun.spawn([exe, "serve", "--listen", "127.0.0.1:0"], { cwd, env, stdout: "pipe", stderr: "pipe" });
  try {
    const url = await waitForUrl(demo, 30_000);
    expect(readdirSync(path.join(cwd, "mata-data", "root")).sort()).toEqual(Object.keys(DEMO_METADATA).sort());
    const add = await run(["user", "add", "demo1", "--admin"], "demo password 1\n", cwd);
    expect(add.code, add.err).toBe(0);
    const auth = { Authorization: `Basic ${btoa("demo1:demo password 1")}` };
    let paths: string[] = [];
    for (let i = 0; i < 50 && paths.length < 5; i++) {
      const res = await fetch(`${url}/api/v1/datasets?limit=50`, { headers: auth });
      expect(res.status).toBe(200);
      paths = ((await res.json()) as { items: { path: string }[] }).items.map((d) => d.path);
      if (paths.length < 5) await Bun.sleep(200);
    }
    expect(paths.sort()).toEqual(Object.keys(DEMO_METADATA).sort());

    // The executable's tiler (a child process of itself, sharp inside) turns the demo CT into a preview.
    const list = (await (await fetch(`${url}/api/v1/datasets?limit=50`, { headers: auth })).json()) as { items: { id: number; path: string }[] };
    const ct = list.items.find((d) => d.path === "lung-biopsy-CT-001")!;
    type Status = { preview: { state: string }; previews: { state: string; size: number[]; thumbnail: string }[] };
    let status: Status | undefined;
    for (let i = 0; i < 120; i++) {
      status = (await (await fetch(`${url}/api/v1/datasets/${ct.id}/previews`, { headers: auth })).json()) as Status;
      if (status.preview.state === "ready" || status.preview.state === "failed") break;
      await Bun.sleep(250);
    }
    expect(status?.preview.state, JSON.stringify(status)).toBe("ready");
    expect(status!.previews[0]!.size).toEqual([256, 256, 64]);
    const thumb = await fetch(`${url}${status!.previews[0]!.thumbnail}`, { headers: auth });
    expect(thumb.status).toBe(200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe("jpeg");
    expect(meta.width).toBeGreaterThan(32);

    process.kill(demo.pid, "SIGTERM");
    expect(await demo.exited).toBe(0);
  } finally {
    if (demo.exitCode === null) process.kill(demo.pid, "SIGKILL");
  }
}, 60_000);

test("first starts racing each other unpack sharp once, whole: three doctors at once on an empty cache", async () => {
  const fresh = path.join(tmp.dir, "cache-race");
  const runs = await Promise.all([1, 2, 3].map(() => run(["doctor", "--json", "--root", root, "--state", state], undefined, alone, { MATA_CACHE_DIR: fresh })));
  const dirs = new Set<string>();
  for (const r of runs) {
    const sharp = (JSON.parse(r.out) as DoctorReport).checks.find((c) => c.name === "sharp")!;
    expect(sharp.status, sharp.detail).toBe("ok");
    dirs.add((sharp.data as { nativeDir: string }).nativeDir);
  }
  expect(dirs.size).toBe(1);
  const files = readdirSync(fresh, { recursive: true }) as string[];
  expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  expect(files.filter((f) => f.endsWith(".node") || /libvips-cpp\.so/.test(f))).toHaveLength(2);
}, 30_000);
