// Preview reuse must not hand one dataset's pictures to another. File names, sizes and mtimes are listed to every
// signed-in user, and anyone may give their own files the same: Bob, who may not read Ann's dataset, makes files
// with her names, sizes and times (other bytes) in his own dataset. His previews must show his bytes, built
// again, never Ann's, and Ann's stay closed to him. Real files, real builds in the tiler child.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { previewSummary } from "../../src/preview/preview.service.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../jobs/fixture.ts";

const ctx = testContext();
const app = createApp(ctx);
const ids = { ann: 0, bob: 0 };
let stopJobs: () => Promise<void> = async () => {};
const FILES = ["vol.mhd", "vol.raw", "part.stl"];

/** A binary STL of a tetrahedron scaled by `s` (always 4 triangles: 284 bytes). */
function tetraStl(s: number): Buffer {
  const v = [
    [0, 0, 0],
    [s, 0, 0],
    [0, s, 0],
    [0, 0, s],
  ];
  const faces = [
    [0, 2, 1],
    [0, 1, 3],
    [0, 3, 2],
    [1, 2, 3],
  ];
  const buf = Buffer.alloc(84 + 50 * faces.length);
  buf.writeUInt32LE(faces.length, 80);
  faces.forEach((f, t) => f.forEach((i, k) => v[i]!.forEach((c, a) => buf.writeFloatLE(c, 84 + t * 50 + 12 + k * 12 + a * 4))));
  return buf;
}

type Files = { items: { path: string; size: number; mtime: string | number }[] };

beforeAll(async () => {
  ids.ann = addDataset(ctx, "ann-private");
  ids.bob = addDataset(ctx, "bob-own");
  ctx.db.query("UPDATE datasets SET owner = 'ann' WHERE id = ?").run(ids.ann);
  ctx.db.query("UPDATE datasets SET owner = 'bob' WHERE id = ?").run(ids.bob);
  const ann = path.join(ctx.config.root, "ann-private");
  const bob = path.join(ctx.config.root, "bob-own");
  // Ann's scan: a bright ball; her surface: a tetrahedron 10 wide.
  writeMetaImage(ann, "vol", [64, 48, 32], (x, y, z) => ((x - 32) ** 2 + (y - 24) ** 2 + (z - 16) ** 2 < 200 ? 3000 : 100));
  writeFileSync(path.join(ann, "part.stl"), tetraStl(10));
  stopJobs = await startJobs(ctx, { settleMs: 20 });
  commitChange(ctx, ids.ann);
  await waitFor("Ann's previews", () => previewSummary(ctx, ids.ann).state === "ready", 60_000);

  // Bob reads what every signed-in user may: the names, sizes and times of Ann's files...
  const listing = await app.request(`/api/v1/datasets/${ids.ann}/files`, { headers: withUser(ctx, "bob").headers });
  expect(listing.status).toBe(200);
  // ...and makes his own files alike: same names and sizes, other bytes (a gradient, a bigger tetrahedron), same mtimes.
  writeMetaImage(bob, "vol", [64, 48, 32], (x) => x * 40);
  writeFileSync(path.join(bob, "part.stl"), tetraStl(30));
  for (const f of FILES) {
    const st = statSync(path.join(ann, f));
    expect(statSync(path.join(bob, f)).size).toBe(st.size);
    utimesSync(path.join(bob, f), st.atime, st.mtime);
  }
  commitChange(ctx, ids.bob);
  await waitFor("Bob's previews", () => previewSummary(ctx, ids.bob).state === "ready", 60_000);
}, 150_000);

afterAll(async () => {
  await stopJobs();
  ctx.cleanup();
});

const bytes = async (url: string, who: string) => {
  const res = await app.request(url, { headers: withUser(ctx, who).headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};
const previews = (id: number) =>
  ctx.db.query<{ n: number; kind: string; content_key: string }, [number]>("SELECT n, kind, content_key FROM previews WHERE dataset_id = ? ORDER BY n").all(id);

test("the files really match by name, size and mtime, as the preview key used to see them", () => {
  const rows = (id: number) =>
    ctx.db
      .query<{ path: string; size: number; mtime_ms: number }, [number]>("SELECT path, size, mtime_ms FROM files WHERE dataset_id = ? ORDER BY path")
      .all(id);
  expect(rows(ids.bob)).toEqual(rows(ids.ann));
});

test("Bob's previews are built from his bytes under keys of their own", () => {
  const a = previews(ids.ann);
  const b = previews(ids.bob);
  expect(b.map((p) => p.kind)).toEqual(a.map((p) => p.kind));
  for (let i = 0; i < a.length; i++) expect(b[i]!.content_key).not.toBe(a[i]!.content_key);
  const jobs = ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE kind = 'preview' AND state = 'done'").get()!.n;
  expect(jobs).toBe(2);
});

test("Bob's thumbnail, tiles and GLB from his own dataset's URLs show his content, never Ann's", async () => {
  const n = { volume: previews(ids.ann).find((p) => p.kind !== "mesh")!.n, mesh: previews(ids.ann).find((p) => p.kind === "mesh")!.n };
  const urls = [`${n.volume}/thumbnail`, `${n.volume}/tiles/0/0-64_0-48_16-17`, `${n.volume}/tiles/0/0-64_24-25_0-32`, `${n.mesh}/mesh.glb`];
  for (const rest of urls) {
    const annSees = await bytes(`/api/v1/datasets/${ids.ann}/previews/${rest}`, "ann");
    const bobSees = await bytes(`/api/v1/datasets/${ids.bob}/previews/${rest}`, "bob");
    expect({ rest, ann: annSees.status, bob: bobSees.status }).toEqual({ rest, ann: 200, bob: 200 });
    expect({ rest, same: bobSees.body.equals(annSees.body) }).toEqual({ rest, same: false });
  }
});

test("Ann's previews stay closed to Bob (403), whatever URL he tries", async () => {
  for (const rest of ["0", "0/thumbnail", "0/tiles/info", "0/tiles/0/0-64_0-48_16-17", "1/mesh.glb", "1/thumbnail"]) {
    const r = await bytes(`/api/v1/datasets/${ids.ann}/previews/${rest}`, "bob");
    expect({ rest, status: r.status }).toEqual({ rest, status: 403 });
  }
});
