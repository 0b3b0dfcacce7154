// /api/v1/health of real servers on 127.0.0.1: ok (200) while every part is well, degraded (503) with a reason when
// the share root's disk (a real tmpfs) is nearly full or the watcher stopped, ok again when the cause is gone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { createSyncService } from "../../src/sync/sync.service.ts";
import { tempDir, testContext } from "../support/env.ts";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

interface Health {
  ok: boolean;
  version: string;
  status: "ok" | "degraded";
  reasons: string[];
  checks: {
    watcher: { state: string };
    jobs: { queue: string; queued: number; running: number; failed: number; oldestQueuedSeconds: number | null };
    database: { ok: boolean; ms: number };
    disk: Record<"state" | "root", { ok: boolean; freeBytes?: number; minFreeBytes?: number; totalBytes?: number }>;
  };
}

async function health(url: string): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${url}/api/v1/health`);
  return { status: res.status, body: (await res.json()) as Health };
}

const mount = tempDir("mata-health-disk-");
const root = path.join(mount.dir, "root");
// Hidden at the top of the root: the watcher and the reconcile leave it alone.
const filler = path.join(root, ".filler", "blob");
let live: LiveServer | undefined;

beforeAll(async () => {
  mkdirSync(root);
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "tmpfs", root], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`mount tmpfs: ${r.stderr.toString()}`);
  mkdirSync(path.dirname(filler));
  live = await startLiveServer({ scans: { "notes.txt": "a scan's notes" } }, { root });
}, 60_000);

afterAll(async () => {
  await live?.stop();
  Bun.spawnSync(["umount", root]);
  mount.cleanup();
});

test("a running server is ok; a nearly full share root makes it degraded (503, the reason named, no path); freed, ok again", async () => {
  const before = await health(live!.url);
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({ ok: true, status: "ok", reasons: [], version: expect.any(String) });
  expect(before.body.checks.watcher.state).toBe("running");
  expect(before.body.checks.jobs.queue).toBe("running");
  expect(before.body.checks.database.ok).toBe(true);
  const disk = before.body.checks.disk.root;
  // The minimum is the smaller of 1 GiB and 2% of the disk: here 2% of 24 MiB.
  expect(disk.totalBytes).toBe(24 * 1024 * 1024);
  expect(disk.minFreeBytes).toBe(Math.floor(0.02 * 24 * 1024 * 1024));
  expect(disk.ok).toBe(true);

  // Fill the share's disk to all but 100 KB.
  const st = statfsSync(root);
  writeFileSync(filler, Buffer.alloc(st.bavail * st.bsize - 100 * 1024));
  const full = await health(live!.url);
  expect(full.status).toBe(503);
  expect(full.body).toMatchObject({ ok: false, status: "degraded" });
  expect(full.body.checks.disk.root.ok).toBe(false);
  expect(full.body.checks.disk.state.ok).toBe(true);
  expect(full.body.reasons).toEqual([expect.stringMatching(/^share root: [\d.]+ MiB free, under the minimum of 0\.5 MiB$/)]);
  // Public, so it names no folder of the server.
  const text = JSON.stringify(full.body);
  expect(text).not.toContain(root);
  expect(text).not.toContain(live!.state);

  rmSync(filler);
  const freed = await health(live!.url);
  expect(freed.status).toBe(200);
  expect(freed.body.status).toBe("ok");
}, 60_000);

test("the watcher stopping makes the server degraded; a process that runs no watcher reports it as off", async () => {
  const ctx = testContext();
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: createApp(ctx).fetch });
  const url = `http://127.0.0.1:${server.port}`;
  try {
    const off = await health(url);
    expect(off.status).toBe(200);
    expect(off.body.checks.watcher.state).toBe("off");
    expect(off.body.checks.jobs.queue).toBe("off");

    const sync = await createSyncService(ctx, { periodMs: 0 });
    await sync.idle();
    const running = await health(url);
    expect(running.status).toBe(200);
    expect(running.body.checks.watcher.state).toBe("running");

    await sync.stop();
    const stopped = await health(url);
    expect(stopped.status).toBe(503);
    expect(stopped.body).toMatchObject({ ok: false, status: "degraded", reasons: ["watcher: stopped"] });
    expect(stopped.body.checks.watcher.state).toBe("stopped");
  } finally {
    server.stop(true);
    ctx.cleanup();
  }
}, 30_000);
