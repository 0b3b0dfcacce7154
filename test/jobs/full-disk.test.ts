// A full disk under the state dir (a real tmpfs of a few MB): a preview build fails cleanly and waits, retried by
// itself when space returns; a metadata write is refused with a clear message and nothing else changes; the
// database stays whole and the server keeps answering.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary, previewTmpDir } from "../../src/preview/preview.service.ts";
import { tempDir, testContext } from "../support/env.ts";
import { withUser } from "../support/auth.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "./fixture.ts";

const mount = tempDir("mata-full-disk-");
const state = path.join(mount.dir, "state");
let ctx: ReturnType<typeof testContext>;
let stopJobs: () => Promise<void>;
const filler = path.join(state, "filler");

function mountTmpfs(dir: string, size: string, remount = false): void {
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `${remount ? "remount," : ""}size=${size},mode=0700`, "tmpfs", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr.toString()}`);
}

/** Fills the file system of `dir` to the last byte but `leave`. */
function fill(leave: number): void {
  rmSync(filler, { force: true });
  const st = statfsSync(state);
  writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - leave)));
}

beforeAll(() => {
  mkdirSync(state);
  mountTmpfs(state, "24m");
  ctx = testContext({ state });
});

afterAll(async () => {
  await stopJobs?.();
  ctx?.cleanup();
  Bun.spawnSync(["umount", state]);
  mount.cleanup();
});

test("a preview build on a full disk waits, leaves nothing half-made, and finishes by itself when space returns", async () => {
  const id = addDataset(ctx, "vol");
  writeMetaImage(path.join(ctx.config.root, "vol"), "vol", [96, 96, 96], (x, y, z) => (x * 7919 + y * 104729 + z * 1299709) % 4096);
  // Room for the database's own writes, not for the preview's tiles.
  fill(400 * 1024);
  stopJobs = await startJobs(ctx, { settleMs: 10, diskFullRetryMs: 300 });
  commitChange(ctx, id);
  const waiting = () => ctx.db.query<{ state: string; error: string | null }, []>("SELECT state, error FROM jobs WHERE kind = 'preview'").get();
  await waitFor("the build to find the disk full", () => waiting()?.error?.startsWith("waiting for disk space"), 60_000);
  expect(waiting()!.error).toMatch(/ENOSPC|no space left|disk is full/i);
  expect(["queued", "running"]).toContain(waiting()!.state);
  expect(previewSummary(ctx, id).state).not.toBe("failed");
  // Nothing half-made is left in the temp folder between tries.
  await waitFor("no build running", () => waiting()?.state === "queued", 10_000);
  const tmp = previewTmpDir(ctx);
  const leftovers = () => (readdirSync(path.dirname(tmp)).includes(path.basename(tmp)) ? readdirSync(tmp) : []);
  expect(leftovers()).toEqual([]);

  // Space returns: the queue tries again by itself and the preview is built.
  rmSync(filler, { force: true });
  await waitFor("the preview", () => previewSummary(ctx, id).state === "ready", 60_000, 100);
  expect(waiting()).toMatchObject({ state: "done", error: null });
}, 120_000);

test("a metadata write on a full disk is refused (507) with a clear message; earlier writes and the database stay whole", async () => {
  const app = createApp(ctx);
  const editor = withUser(ctx, "ed", { admin: true });
  const id = addDataset(ctx, "notes");
  const patch = (description: string) =>
    app.request(`/api/v1/datasets/${id}`, {
      method: "PATCH",
      headers: { ...editor.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ description }),
    });
  expect((await patch("saved before the disk filled")).status).toBe(200);
  fill(0);
  let refused: Response | undefined;
  let lastSaved = "saved before the disk filled";
  for (let i = 0; i < 400 && !refused; i++) {
    const text = `${i} `.repeat(6000).slice(0, 20_000);
    const r = await patch(text);
    if (r.status === 200) lastSaved = text;
    else refused = r;
  }
  expect(refused?.status).toBe(507);
  const body = (await refused!.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("disk_full");
  expect(body.error.message).toMatch(/disk holding Mata's database is full: nothing was saved/);
  // The server keeps answering reads, and what was saved is still there.
  const get = await app.request(`/api/v1/datasets/${id}`, { headers: editor.headers });
  expect(get.status).toBe(200);
  expect(((await get.json()) as { description: string }).description).toBe(lastSaved);

  rmSync(filler, { force: true });
  expect((await patch("saved after space returned")).status).toBe(200);
  const check = new Database(path.join(state, "mata.db"), { readonly: true });
  expect(check.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check).toBe("ok");
  check.close();
}, 120_000);
