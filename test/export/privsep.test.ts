// OME-Zarr export under privilege separation: the server (a service account with one read-only capability) may not
// write into dataset folders, so the root helper runs the export child as the dataset folder's owner, in a process
// group of its own that a cancel kills. What lands in derived/ is the owner's, reads back bit-exact, and a derived/
// that is a symlink out of the dataset is never followed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as zarr from "zarrita";
import { tempDir } from "../support/env.ts";
import { createUnixUser, writePamService, type UnixUser } from "../support/unix-users.ts";
import { serviceAccount, startSeparatedServer, uidOf, type SeparatedServer } from "../support/separated-server.ts";
import { volumeBytes, writeMetaImage } from "../readers/fixtures.ts";

const KIND = "export.ome-zarr";

interface Job {
  id: number;
  state: string;
  error: string | null;
}

/** Every path beneath `dir` (itself included), depth first. */
function walk(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** PIDs of the processes running as `uid` now. */
function processesOf(uid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return statSync(`/proc/${d}`).uid === uid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Level 0 of a store read whole by zarrita, as bytes. */
async function level0(dir: string): Promise<Uint8Array> {
  const store = {
    get: async (key: string) => {
      try {
        return new Uint8Array(readFileSync(path.join(dir, key)));
      } catch {
        return undefined;
      }
    },
  };
  const arr = await zarr.open.v2(zarr.root(store).resolve("0"), { kind: "array" });
  const got = (await zarr.get(arr)).data as unknown as ArrayBufferView;
  return new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
}

describe.skipIf(process.getuid?.() !== 0)("export by a separated server", () => {
  const tmp = tempDir("mata-privsep-export-");
  const root = path.join(tmp.dir, "root");
  const outside = path.join(tmp.dir, "outside");
  const state = path.join(tmp.dir, "state");
  const srv = serviceAccount();
  let owner: UnixUser;
  let ownerUid = 0;
  let server: SeparatedServer;
  let url = "";
  const auth = () => ({ Authorization: `Basic ${btoa(`${owner.name}:${owner.password}`)}` });

  /** A dataset folder with one uint16 MetaImage, all of it the owner's. */
  function ownedDataset(name: string, w: number, h: number, d: number, prepare?: (dir: string) => void): string {
    // Made outside the root and moved in whole, so the watcher never sees it root's (the dataset owner comes from it).
    const staged = path.join(tmp.dir, "staging", name);
    mkdirSync(staged, { recursive: true });
    writeMetaImage(staged, "vol", { dtype: "uint16", w, h, d, spacing: [0.5, 0.5, 1] });
    for (const p of [staged, path.join(staged, "vol.mhd"), path.join(staged, "vol.raw")]) chownSync(p, ownerUid, ownerUid);
    prepare?.(staged);
    const dir = path.join(root, name);
    renameSync(staged, dir);
    return dir;
  }

  /** The dataset's id once it is listed with its files (a dataset can be listed a moment before they are in). */
  async function datasetId(name: string): Promise<number> {
    for (let i = 0; i < 300; i++) {
      const r = await fetch(`${url}/api/v1/datasets`, { headers: auth() });
      const d = ((await r.json()) as { items: { id: number; path: string; files: { count: number } }[] }).items.find((x) => x.path === name);
      if (d && d.files.count >= 2) return d.id;
      await Bun.sleep(100);
    }
    throw new Error(`dataset ${name} never listed`);
  }

  const jobs = async (id: number): Promise<Job[]> =>
    ((await (await fetch(`${url}/api/v1/datasets/${id}/jobs?kind=${KIND}&limit=50`, { headers: auth() })).json()) as { items: Job[] }).items;

  async function queueExport(id: number): Promise<number> {
    const r = await fetch(`${url}/api/v1/datasets/${id}/export/ome-zarr`, { method: "POST", headers: auth() });
    expect(r.status).toBe(202);
    return ((await r.json()) as { jobId: number }).jobId;
  }

  async function waitJob(id: number, jobId: number, until = (j: Job) => ["done", "failed", "cancelled"].includes(j.state)): Promise<Job> {
    for (let i = 0; i < 1200; i++) {
      const j = (await jobs(id)).find((x) => x.id === jobId);
      if (j && until(j)) return j;
      await Bun.sleep(100);
    }
    throw new Error(`export job ${jobId} never ended`);
  }

  beforeAll(async () => {
    owner = createUnixUser("exp");
    ownerUid = uidOf(owner.name);
    const pam = writePamService(tmp.dir);
    mkdirSync(root, { recursive: true });
    server = await startSeparatedServer(tmp.dir, [
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      `auth = "pam"`,
      `user = "${srv.name}"`,
      `pam_service = "${pam.service}"`,
      `pam_confdir = ${JSON.stringify(pam.confdir)}`,
      `debounce_ms = 100`,
      `stable_ms = 200`,
    ]);
    url = server.url;
  }, 60_000);

  afterAll(() => {
    server?.kill();
    owner?.remove();
    srv.remove();
    tmp.cleanup();
  });

  test("the export is written as the dataset's owner (every file and folder), bit-exact", async () => {
    const dir = ownedDataset("ct", 150, 100, 70);
    const id = await datasetId("ct");
    const job = await waitJob(id, await queueExport(id));
    expect(job).toMatchObject({ state: "done", error: null });
    const store = path.join(dir, "derived", "vol.ome.zarr");
    expect(readdirSync(path.join(dir, "derived"))).toEqual(["vol.ome.zarr"]);
    const written = walk(path.join(dir, "derived"));
    expect(written.length).toBeGreaterThan(8);
    expect(written.filter((p) => statSync(p).uid !== ownerUid)).toEqual([]);
    expect(readdirSync(store).sort()).toEqual([".zattrs", ".zgroup", "0", "1", "2"]);
    const expected = volumeBytes("uint16", 150, 100, 70, true);
    expect(Buffer.compare(Buffer.from(await level0(store)), Buffer.from(expected))).toBe(0);
  }, 120_000);

  test("a derived folder that is a symlink out of the dataset is refused: nothing is written through it", async () => {
    // A folder the owner could write to: only the refusal keeps the export out of it.
    mkdirSync(outside);
    chownSync(outside, ownerUid, ownerUid);
    ownedDataset("linked", 32, 32, 4, (dir) => symlinkSync(outside, path.join(dir, "derived")));
    const id = await datasetId("linked");
    const job = await waitJob(id, await queueExport(id));
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/derived.*not a folder/);
    expect(readdirSync(outside)).toEqual([]);
  }, 60_000);

  test("a change to the volume stops a running export (the owner's process group is killed, its temp folder removed) and exports again", async () => {
    const dir = ownedDataset("big", 512, 512, 256);
    const id = await datasetId("big");
    const derived = path.join(dir, "derived");
    const temp = () => (existsSync(derived) ? readdirSync(derived).filter((f) => f.startsWith(".mata-tmp-")) : []);
    const changed = volumeBytes("uint16", 512, 512, 256, true).map((v, i) => (i % 2 === 0 ? v ^ 0x33 : v));
    const first = await queueExport(id);
    for (let i = 0; i < 600 && temp().length === 0; i++) await Bun.sleep(20);
    expect(temp().length).toBe(1);
    expect(processesOf(ownerUid).length).toBeGreaterThan(0);
    // New content under the same header: the watcher supersedes the running export.
    writeFileSync(path.join(dir, "vol.raw"), changed);
    const stopped = await waitJob(id, first);
    expect(stopped.state).toBe("cancelled");
    let next: Job | undefined;
    for (let i = 0; i < 1200 && !next; i++) {
      next = (await jobs(id)).find((j) => j.id > first && ["done", "failed"].includes(j.state));
      if (!next) await Bun.sleep(100);
    }
    expect(next).toMatchObject({ state: "done", error: null });
    expect(readdirSync(derived)).toEqual(["vol.ome.zarr"]);
    expect(processesOf(ownerUid)).toEqual([]);
    expect(Buffer.compare(Buffer.from(await level0(path.join(derived, "vol.ome.zarr"))), Buffer.from(changed))).toBe(0);
  }, 240_000);
});
