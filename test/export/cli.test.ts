// `mata export ome-zarr` against a real `mata serve`: the export lands in the dataset folder, the watcher tracks its
// files like any others, and no preview is built for them; refusals are one line with exit 1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { runMata, startLiveServer, type LiveServer } from "../support/live-server.ts";
import { volumeBytes } from "../readers/fixtures.ts";

let live: LiveServer;
const HEADER = "ObjectType = Image\nNDims = 3\nDimSize = 100 90 70\nElementType = MET_USHORT\nElementSpacing = 0.5 0.5 1\nElementDataFile = vol.raw\n";

beforeAll(async () => {
  live = await startLiveServer({ ct: { "vol.mhd": HEADER, "vol.raw": volumeBytes("uint16", 100, 90, 70, true), "notes.txt": "knee" } });
}, 60_000);
afterAll(async () => {
  await live?.stop();
});

function mata(args: string[], token = live.admin.token) {
  return runMata(args, { env: { MATA_URL: live.url, MATA_TOKEN: token, MATA_USER: undefined, MATA_PASSWORD: undefined } });
}

async function api<T>(p: string): Promise<T> {
  const res = await fetch(live.url + p, { headers: { Authorization: `Bearer ${live.admin.token}` } });
  return (await res.json()) as T;
}

type Jobs = { items: { id: number; kind: string; state: string }[] };

test("mata export ome-zarr PATH --wait writes derived/vol.ome.zarr; the watcher tracks it and queues no preview for it", async () => {
  const id = live.ids["ct"]!;
  const previewDone = async () => (await api<Jobs>(`/api/v1/datasets/${id}/jobs?kind=preview`)).items.some((j) => j.state === "done");
  for (let i = 0; i < 600 && !(await previewDone()); i++) await Bun.sleep(100);
  const previewsBefore = (await api<Jobs>(`/api/v1/datasets/${id}/jobs?kind=preview`)).items.length;
  const filesBefore = (await api<{ files: { count: number } }>(`/api/v1/datasets/${id}`)).files.count;

  const r = await mata(["export", "ome-zarr", "ct", "--wait"]);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toContain(`dataset ${id} exported`);
  const store = path.join(live.root, "ct", "derived", "vol.ome.zarr");
  expect(readdirSync(path.join(store, "0")).length).toBe(2 * 2 * 2 + 1); // 70 x 90 x 100 in 64^3 chunks, and .zarray
  expect(existsSync(path.join(store, ".zattrs"))).toBe(true);

  // The watcher picks the export up (files counted), and the change it makes queues no preview.
  const written = readdirSync(store, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  let count = filesBefore;
  // The watcher takes files once they have stayed unchanged for a while: they may come in more than one scan.
  for (let i = 0; i < 300 && count < filesBefore + written; i++) {
    await Bun.sleep(100);
    count = (await api<{ files: { count: number } }>(`/api/v1/datasets/${id}`)).files.count;
  }
  expect(count).toBe(filesBefore + written);
  await Bun.sleep(1500);
  expect((await api<Jobs>(`/api/v1/datasets/${id}/jobs?kind=preview`)).items.length).toBe(previewsBefore);
  const exports = (await api<Jobs>(`/api/v1/datasets/${id}/jobs?kind=export.ome-zarr`)).items;
  expect(exports.map((j) => j.state)).toEqual(["done"]);

  const json = await mata(["export", "ome-zarr", String(id), "--json"]);
  expect(json.code, json.err).toBe(0);
  expect(JSON.parse(json.out)).toMatchObject({ kind: "export.ome-zarr", datasetId: id });
}, 120_000);

test("refusals: someone who may not edit the dataset, a dataset that does not exist, a missing argument", async () => {
  const denied = await mata(["export", "ome-zarr", "ct"], live.user.token);
  expect(denied.code).toBe(1);
  expect(denied.err).toMatch(/^mata export ome-zarr: permission denied: .+\n$/);
  const missing = await mata(["export", "ome-zarr", "no-such-folder"]);
  expect(missing.code).toBe(1);
  expect(missing.err).toContain('no dataset at "no-such-folder"');
  const usage = await mata(["export", "ome-zarr"]);
  expect(usage.code).toBe(2);
  expect(usage.err).toContain("needs a dataset PATH_OR_ID");
}, 60_000);
