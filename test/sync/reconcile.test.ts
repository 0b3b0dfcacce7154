import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { chownSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, linkSync } from "node:fs";
import path from "node:path";
import { reconcileAll, reconcileScopes } from "../../src/sync/reconcile.ts";
import { readManifest } from "../../src/sync/manifest.ts";
import { readIdentity, readMetadataMirror } from "../../src/sync/sidecar.ts";
import { testContext } from "../support/env.ts";
import { addTags, at, datasets, eventKinds, fileRows, files, parents, put, tagTreeOf } from "./helpers.ts";

// Real trees, processes and watchers on a shared machine: generous bounds, the waits inside are specific.
setDefaultTimeout(60_000);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
function ctxWith(overrides = {}) {
  const ctx = testContext(overrides);
  cleanups.push(ctx.cleanup);
  return ctx;
}

describe("folder level", () => {
  test("added datasets get a sidecar identity and manifest; hidden folders and loose files are not datasets", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "alpha/a.tif", "1234");
    put(root, "alpha/sub/b.raw", "12");
    put(root, "beta/c.png", "x");
    put(root, ".hidden/d", "x");
    put(root, "loose.txt", "x");
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ added: 2, removed: 0, renamed: 0, copied: 0, restored: 0, present: 2 });
    expect(s.files).toMatchObject({ added: 3, present: 3 });
    const alpha = at(ctx, "alpha");
    expect(alpha).toMatchObject({ file_count: 2, byte_count: 6, generation: 2 });
    expect(files(ctx, alpha.id)).toEqual(["a.tif", "sub/b.raw"]);
    expect(readIdentity(path.join(root, "alpha"))?.uid).toBe(alpha.uid);
    expect(readManifest(path.join(root, "alpha"))?.files.map((f) => f.path)).toEqual(["a.tif", "sub/b.raw"]);
    expect(eventKinds(ctx, alpha.id)).toEqual(["dataset.added", "files.changed"]);
    // A second scan changes nothing and bumps nothing.
    const again = await reconcileAll(ctx);
    expect(again.datasets).toMatchObject({ added: 0, removed: 0, present: 2 });
    expect(again.files).toMatchObject({ added: 0, removed: 0, modified: 0 });
    expect(at(ctx, "alpha").generation).toBe(2);
  });

  test("removed datasets become missing with metadata kept; putting them back restores the same id", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "scan/a.tif", "abc");
    await reconcileAll(ctx);
    const { id } = at(ctx, "scan");
    ctx.db.query("UPDATE datasets SET title = 'Sheep femur' WHERE id = ?").run(id);
    addTags(ctx, id);
    const trash = path.join(ctx.dir, "trash");
    renameSync(path.join(root, "scan"), trash);
    const s = await reconcileAll(ctx);
    expect(s.datasets.removed).toBe(1);
    expect(datasets(ctx)).toMatchObject([{ id, path: "scan", state: "missing", title: "Sheep femur" }]);
    renameSync(trash, path.join(root, "scan"));
    const s2 = await reconcileAll(ctx);
    expect(s2.datasets).toMatchObject({ restored: 1, added: 0 });
    expect(at(ctx, "scan")).toMatchObject({ id, title: "Sheep femur", file_count: 1 });
    expect(tagTreeOf(ctx, id)).toHaveLength(2);
    expect(eventKinds(ctx, id)).toEqual(["dataset.added", "files.changed", "dataset.missing", "dataset.restored"]);
  });

  test("renamed while its files change keeps the id and metadata, and sees the file changes", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "old/a.tif", "aaaa");
    put(root, "old/b.tif", "bbbb");
    await reconcileAll(ctx);
    const { id, uid } = at(ctx, "old");
    ctx.db.query("UPDATE datasets SET title = 'kept' WHERE id = ?").run(id);
    const before = fileRows(ctx, id);
    renameSync(path.join(root, "old"), path.join(root, "new"));
    renameSync(path.join(root, "new/a.tif"), path.join(root, "new/a2.tif"));
    writeFileSync(path.join(root, "new/b.tif"), "bbbbbb");
    put(root, "new/c.tif", "c");
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ renamed: 1, added: 0, removed: 0, copied: 0 });
    expect(s.files).toMatchObject({ renamed: 1, modified: 1, added: 1 });
    expect(at(ctx, "new")).toMatchObject({ id, uid, title: "kept", file_count: 3, byte_count: 11 });
    expect(fileRows(ctx, id).get("a2.tif")!.id).toBe(before.get("a.tif")!.id);
    expect(datasets(ctx)).toHaveLength(1);
  });

  test("a copy becomes a new dataset with the original as parent and its tags; a copy of a copy chains", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "orig/a.tif", "aaaa");
    await reconcileAll(ctx);
    const orig = at(ctx, "orig");
    addTags(ctx, orig.id);
    cpSync(path.join(root, "orig"), path.join(root, "orig copy"), { recursive: true });
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ copied: 1, added: 0, renamed: 0 });
    const copy = at(ctx, "orig copy");
    expect(copy.uid).not.toBe(orig.uid);
    expect(at(ctx, "orig").id).toBe(orig.id);
    expect(parents(ctx, copy.id)).toEqual([orig.id]);
    expect(tagTreeOf(ctx, copy.id)).toEqual(tagTreeOf(ctx, orig.id));
    expect(readIdentity(path.join(root, "orig copy"))).toMatchObject({ uid: copy.uid, copiedFrom: orig.uid });
    expect(readMetadataMirror(path.join(root, "orig copy"))).toMatchObject({ parents: [orig.uid], tags: [{ key: "Patient" }, { key: "Modality" }] });
    cpSync(path.join(root, "orig copy"), path.join(root, "copy of copy"), { recursive: true });
    await reconcileAll(ctx);
    const cc = at(ctx, "copy of copy");
    expect(parents(ctx, cc.id)).toEqual([copy.id]);
    expect(new Set(datasets(ctx).map((d) => d.uid)).size).toBe(3);
    expect((await reconcileAll(ctx)).datasets).toMatchObject({ copied: 0, added: 0, present: 3 });
  });

  test("the copy is the new path even when it sorts first (the database decides the original)", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "zeta/a", "1");
    await reconcileAll(ctx);
    const z = at(ctx, "zeta");
    cpSync(path.join(root, "zeta"), path.join(root, "alpha"), { recursive: true });
    await reconcileAll(ctx);
    expect(at(ctx, "zeta").id).toBe(z.id);
    expect(parents(ctx, at(ctx, "alpha").id)).toEqual([z.id]);
  });

  test("moved and renamed at the same time with the original gone elsewhere: a move, not a copy", async () => {
    const ctx = ctxWith({ depth: 2 });
    const root = ctx.config.root;
    put(root, "lab-a/s1/a.tif", "aaaa");
    put(root, "lab-a/s2/b.tif", "bb");
    await reconcileAll(ctx);
    const s1 = at(ctx, "lab-a/s1");
    const s2 = at(ctx, "lab-a/s2");
    mkdirSync(path.join(root, "lab-b"));
    renameSync(path.join(root, "lab-a/s1"), path.join(root, "lab-b/s1-moved"));
    renameSync(path.join(root, "lab-a"), path.join(root, "lab-c"));
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ renamed: 2, added: 0, copied: 0, removed: 0 });
    expect(at(ctx, "lab-b/s1-moved").id).toBe(s1.id);
    expect(at(ctx, "lab-c/s2").id).toBe(s2.id);
    // Folders above the dataset level are not datasets; files there belong to none.
    put(root, "lab-b/readme.txt", "x");
    expect((await reconcileAll(ctx)).datasets.present).toBe(2);
  });

  test("two datasets swapping names keep their ids", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "a/1", "1");
    put(root, "b/2", "22");
    await reconcileAll(ctx);
    const a = at(ctx, "a");
    const b = at(ctx, "b");
    renameSync(path.join(root, "a"), path.join(root, "tmp"));
    renameSync(path.join(root, "b"), path.join(root, "a"));
    renameSync(path.join(root, "tmp"), path.join(root, "b"));
    const s = await reconcileAll(ctx);
    expect(s.datasets.renamed).toBe(2);
    expect(at(ctx, "a").id).toBe(b.id);
    expect(at(ctx, "b").id).toBe(a.id);
  });

  test("a scope reconciles only its dataset, and still detects a move from outside the scope", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "one/a", "1");
    put(root, "two/b", "2");
    await reconcileAll(ctx);
    const one = at(ctx, "one");
    put(root, "two/c", "3");
    renameSync(path.join(root, "one"), path.join(root, "uno"));
    const s = await reconcileScopes(ctx, ["uno"]);
    expect(s.datasets).toMatchObject({ renamed: 1, present: 1 });
    expect(at(ctx, "uno").id).toBe(one.id);
    expect(at(ctx, "two").file_count).toBe(1);
  });
});

describe("owner", () => {
  test("the owner is the unix owner of the dataset folder, unless an admin fixed it", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "mine/a", "1");
    put(root, "theirs/b", "2");
    chownSync(path.join(root, "theirs"), 65534, 65534);
    await reconcileAll(ctx);
    expect(at(ctx, "mine").owner).toBe("root");
    expect(at(ctx, "theirs").owner).toBe("nobody");
    ctx.db.query("UPDATE datasets SET owner = 'alice', owner_fixed = 1 WHERE path = 'theirs'").run();
    chownSync(path.join(root, "mine"), 65534, 65534);
    chownSync(path.join(root, "theirs"), 0, 0);
    renameSync(path.join(root, "theirs"), path.join(root, "theirs2"));
    await reconcileAll(ctx);
    expect(at(ctx, "mine").owner).toBe("nobody");
    expect(at(ctx, "theirs2").owner).toBe("alice");
  });
});

describe("file level", () => {
  test("added, removed, modified, renamed, moved and copied files", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/keep", "k");
    put(root, "d/gone", "g");
    put(root, "d/mod", "m");
    put(root, "d/ren", "rrrr");
    put(root, "d/mv", "mmmmm");
    await reconcileAll(ctx);
    const d = at(ctx, "d");
    const ids = fileRows(ctx, d.id);
    const changes: unknown[] = [];
    ctx.hooks.contentChanged.push((c) => changes.push(c));
    rmSync(path.join(root, "d/gone"));
    writeFileSync(path.join(root, "d/mod"), "mm");
    renameSync(path.join(root, "d/ren"), path.join(root, "d/ren2"));
    mkdirSync(path.join(root, "d/sub"));
    renameSync(path.join(root, "d/mv"), path.join(root, "d/sub/mv"));
    cpSync(path.join(root, "d/keep"), path.join(root, "d/keep-copy"), { preserveTimestamps: true });
    linkSync(path.join(root, "d/keep"), path.join(root, "d/keep-link"));
    put(root, "d/new", "nnn");
    const s = await reconcileAll(ctx);
    expect(s.files).toMatchObject({ added: 1, removed: 1, modified: 1, renamed: 2, copied: 2 });
    const after = fileRows(ctx, d.id);
    expect(after.get("ren2")!.id).toBe(ids.get("ren")!.id);
    expect(after.get("sub/mv")!.id).toBe(ids.get("mv")!.id);
    expect(after.get("mod")!.size).toBe(2);
    expect([...after.keys()].sort()).toEqual(["keep", "keep-copy", "keep-link", "mod", "new", "ren2", "sub/mv"]);
    expect(at(ctx, "d")).toMatchObject({ generation: d.generation + 1, file_count: 7 });
    expect(changes).toEqual([
      {
        datasetId: d.id,
        path: "d",
        generation: d.generation + 1,
        changed: expect.arrayContaining(["new", "keep-copy", "keep-link", "mod", "ren2", "sub/mv"]),
        removed: expect.arrayContaining(["gone", "ren", "mv"]),
      },
    ]);
    const ev = ctx.db
      .query<{ detail: string }, [number]>("SELECT detail FROM events WHERE dataset_id = ? AND kind = 'files.changed' ORDER BY id DESC LIMIT 1")
      .get(d.id)!;
    expect(JSON.parse(ev.detail)).toMatchObject({
      counts: { added: 1, removed: 1, modified: 1, renamed: 2, copied: 2 },
      renamed: expect.arrayContaining([["ren", "ren2"]]),
    });
  });

  test("an mtime-only change is a modification; files in .mata/ are not dataset files", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/a", "a");
    await reconcileAll(ctx);
    utimesSync(path.join(root, "d/a"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    put(root, "d/.mata/extra.json", "{}");
    const s = await reconcileAll(ctx);
    expect(s.files).toMatchObject({ modified: 1, added: 0 });
    expect(files(ctx, at(ctx, "d").id)).toEqual(["a"]);
    expect(JSON.parse(readFileSync(path.join(root, "d/.mata/manifest.json"), "utf8")).files).toHaveLength(1);
  });
});
