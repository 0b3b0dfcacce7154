// A folder that is still where its dataset is, with the same folder inode, stays that dataset whatever happens to its
// `.mata/` sidecar; a lost sidecar comes back whole (identity with the dataset's id, manifest, metadata mirror).
import { afterEach, expect, test } from "bun:test";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeDataset } from "../../src/datasets/describe.service.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { readManifest } from "../../src/sync/manifest.ts";
import { readIdentity, readMetadataMirror } from "../../src/sync/sidecar.ts";
import { testContext } from "../support/env.ts";
import { at, datasets, parents, put } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
function ctxWith() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  return ctx;
}

test("cp -r A B, then A's .mata deleted: A keeps its dataset and metadata, B is a new copy of it", async () => {
  const ctx = ctxWith();
  const root = ctx.config.root;
  put(root, "A/scan.tif", "pixels");
  await reconcileAll(ctx);
  const a = at(ctx, "A");
  describeDataset(ctx, "ann", a.id, { title: "Knee CT" });
  cpSync(path.join(root, "A"), path.join(root, "B"), { recursive: true, preserveTimestamps: true });
  rmSync(path.join(root, "A", ".mata"), { recursive: true });
  const s = await reconcileAll(ctx);
  expect(s.datasets).toMatchObject({ present: 2, copied: 1, removed: 0 });
  expect(at(ctx, "A")).toMatchObject({ id: a.id, uid: a.uid, title: "Knee CT" });
  const b = at(ctx, "B");
  expect(b.id).not.toBe(a.id);
  expect(parents(ctx, b.id)).toEqual([a.id]);
  expect(datasets(ctx).filter((d) => d.state === "missing")).toEqual([]);
  expect(readIdentity(path.join(root, "A"))).toMatchObject({ uid: a.uid, id: a.id });
  expect(readIdentity(path.join(root, "B"))).toMatchObject({ uid: b.uid, id: b.id, copiedFrom: a.uid });
});

test("an identity edited to name another dataset changes nothing: X stays X, Y stays Y", async () => {
  const ctx = ctxWith();
  const root = ctx.config.root;
  put(root, "X/x.raw", "xx");
  put(root, "Y/y.raw", "yyy");
  await reconcileAll(ctx);
  const [x, y] = [at(ctx, "X"), at(ctx, "Y")];
  writeFileSync(path.join(root, "X", ".mata", "identity.json"), JSON.stringify({ uid: y.uid, createdAt: 1 }));
  const s = await reconcileAll(ctx);
  expect(s.datasets).toMatchObject({ present: 2, copied: 0, added: 0, removed: 0, renamed: 0 });
  expect(at(ctx, "X")).toMatchObject({ id: x.id, uid: x.uid });
  expect(at(ctx, "Y")).toMatchObject({ id: y.id, uid: y.uid });
  expect(parents(ctx, x.id)).toEqual([]);
  expect(readIdentity(path.join(root, "X"))?.uid).toBe(x.uid);
});

test("a deleted .mata is rewritten whole on the next scan: identity with the id, manifest and metadata mirror", async () => {
  const ctx = ctxWith();
  const root = ctx.config.root;
  put(root, "D/a.tif", "aaaa");
  put(root, "D/sub/b.tif", "bb");
  await reconcileAll(ctx);
  const d = at(ctx, "D");
  describeDataset(ctx, "ann", d.id, { title: "Described", description: "kept in the mirror" });
  rmSync(path.join(root, "D", ".mata"), { recursive: true });
  const s = await reconcileAll(ctx);
  expect(s.datasets).toMatchObject({ present: 1, added: 0, copied: 0 });
  const dir = path.join(root, "D");
  expect(readIdentity(dir)).toMatchObject({ uid: d.uid, id: d.id });
  expect(
    readManifest(dir)
      ?.files.map((f) => f.path)
      .sort(),
  ).toEqual(["a.tif", "sub/b.tif"]);
  expect(readMetadataMirror(dir)).toMatchObject({ title: "Described", description: "kept in the mirror" });
});
