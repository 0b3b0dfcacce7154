// One errno at a time, each from the real kernel: a refused lstat, open or read (EACCES, as an unprivileged
// scanner), a symlink loop (ELOOP), an I/O error (EIO, from a FUSE file system that fails on demand). Each is
// recorded on its dataset or ignored as the entry it is; the scan goes on and the other datasets are whole.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Database } from "bun:sqlite";
import { mirrorMetadata } from "../../src/mirror/metadata-mirror.ts";
import { reconcileAll, reconcileScopes } from "../../src/sync/reconcile.ts";
import { readIdentity } from "../../src/sync/sidecar.ts";
import { mountFaulty } from "../support/faulty-fs.ts";
import { addTags, at, datasets, files, put, scanAsNobody, tagTreeOf, contextsPerTest, asNobody } from "./helpers.ts";

// Real trees, a FUSE mount and child processes on a shared machine: generous bounds.
setDefaultTimeout(60_000);

type Row = ReturnType<typeof at>;

const { ctxWith, cleanups } = contextsPerTest();
/** Sets a mode for the body, and back to 0755 after it whatever happens (so the temp tree can be removed). */
function withMode(paths: string[], mode: number): void {
  for (const p of paths) chmodSync(p, mode);
  cleanups.push(() => paths.forEach((p) => chmodSync(p, 0o755)));
}

describe("EACCES", () => {
  test("lstat refused in a folder that is readable but not searchable (r--): recorded, its known files kept, the others whole", () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "a/ok.tif", "1");
    put(root, "a/ro/known.tif", "22");
    put(root, "a/ro/sub/deep.tif", "333");
    put(root, "b/fine.tif", "4444");
    put(root, "c/whole.tif", "55555");
    Bun.spawnSync(["chown", "-R", "65534:65534", root]);
    expect(scanAsNobody(ctx).files.present).toBe(5);
    put(root, "a/ro/new.tif", "6");
    Bun.spawnSync(["chown", "65534:65534", path.join(root, "a/ro/new.tif")]);
    // The names in "a/ro" and in "c" still list; every lstat below them is refused.
    withMode([path.join(root, "a/ro"), path.join(root, "c")], 0o444);
    const s = scanAsNobody(ctx);
    expect(s.datasets).toMatchObject({ present: 3, removed: 0, added: 0 });
    expect(s.files).toMatchObject({ removed: 0, added: 0 });
    expect(at(ctx, "a")).toMatchObject({ file_count: 3, scan_error: 'cannot read folder "ro": EACCES' });
    expect(files(ctx, at(ctx, "a").id)).toEqual(["ok.tif", "ro/known.tif", "ro/sub/deep.tif"]);
    // A dataset folder that is not searchable: its sidecar cannot be read or written, its one file is kept.
    expect(at(ctx, "c").scan_error).toContain('cannot read folder ".": EACCES');
    expect(at(ctx, "c").scan_error).toContain("cannot write the sidecar");
    expect(files(ctx, at(ctx, "c").id)).toEqual(["whole.tif"]);
    expect(at(ctx, "b")).toMatchObject({ file_count: 1, scan_error: null });
    expect(s.errors.sort()).toEqual([`a: cannot read folder "ro": EACCES`, `c: ${at(ctx, "c").scan_error}`]);
    // Searchable again: the new file comes in and the errors clear.
    for (const p of ["a/ro", "c"]) chmodSync(path.join(root, p), 0o755);
    expect(scanAsNobody(ctx).errors).toEqual([]);
    expect(at(ctx, "a")).toMatchObject({ file_count: 4, scan_error: null });
    expect(at(ctx, "c")).toMatchObject({ file_count: 1, scan_error: null });
  });

  test("depth 2: a parent folder that lists but cannot be searched leaves the datasets below it as they were", () => {
    const ctx = ctxWith({ depth: 2 });
    const root = ctx.config.root;
    put(root, "lab-a/s1/a.tif", "1");
    put(root, "lab-b/s2/b.tif", "2");
    Bun.spawnSync(["chown", "-R", "65534:65534", root]);
    expect(scanAsNobody(ctx, ["--depth", "2"]).datasets.added).toBe(2);
    withMode([path.join(root, "lab-a")], 0o444);
    const s = scanAsNobody(ctx, ["--depth", "2"]);
    expect(s.errors).toEqual(['cannot read folder "lab-a": EACCES']);
    expect(s.datasets).toMatchObject({ removed: 0, present: 1 });
    expect(at(ctx, "lab-a/s1").file_count).toBe(1);
    expect(at(ctx, "lab-b/s2")).toMatchObject({ file_count: 1, scan_error: null });
  });

  test("a sidecar the scanner cannot open: the dataset keeps its id, metadata and files; the sidecar is written again or the refusal recorded", () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "a/x.tif", "1");
    put(root, "b/y.tif", "22");
    Bun.spawnSync(["chown", "-R", "65534:65534", root]);
    scanAsNobody(ctx);
    const a = at(ctx, "a");
    ctx.db.query("UPDATE datasets SET title = 'Sheep 3' WHERE id = ?").run(a.id);
    addTags(ctx, a.id);
    const tags = tagTreeOf(ctx, a.id);
    const identity = path.join(root, "a/.mata/identity.json");
    expect(readIdentity(path.join(root, "a"))?.uid).toBe(a.uid);

    // identity.json unreadable (mode 000): read as absent, the folder is still the dataset at its path (same inode),
    // and its identity is written again, readable.
    chmodSync(identity, 0o000);
    let s = scanAsNobody(ctx);
    expect(s.errors).toEqual([]);
    expect(s.datasets).toMatchObject({ added: 0, copied: 0, removed: 0, present: 2 });
    expect(at(ctx, "a")).toMatchObject({ id: a.id, uid: a.uid, title: "Sheep 3", file_count: 1, scan_error: null });
    expect(tagTreeOf(ctx, a.id)).toEqual(tags);
    expect(statSync(identity).mode & 0o777).toBe(0o644);
    expect(readIdentity(path.join(root, "a"))?.uid).toBe(a.uid);

    // The whole `.mata` folder closed (mode 000): nothing in it can be read or written; recorded on the dataset.
    withMode([path.join(root, "a/.mata")], 0o000);
    s = scanAsNobody(ctx);
    expect(s.datasets).toMatchObject({ added: 0, copied: 0, removed: 0, present: 2 });
    expect(at(ctx, "a")).toMatchObject({ id: a.id, title: "Sheep 3", file_count: 1 });
    expect(at(ctx, "a").scan_error).toMatch(/cannot write the sidecar: EACCES/);
    expect(s.errors).toEqual([`a: ${at(ctx, "a").scan_error}`]);
    expect(tagTreeOf(ctx, a.id)).toEqual(tags);
    expect(at(ctx, "b")).toMatchObject({ file_count: 1, scan_error: null });
    chmodSync(path.join(root, "a/.mata"), 0o755);
    expect(scanAsNobody(ctx).errors).toEqual([]);
    expect(at(ctx, "a")).toMatchObject({ id: a.id, scan_error: null });
  });
});

describe("EACCES on a metadata mirror", () => {
  test("`mata rebuild` goes on past a mirror it cannot open: that dataset comes back with its id and files, and is reported", () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "a/x.tif", "1");
    put(root, "b/y.tif", "22");
    Bun.spawnSync(["chown", "-R", "65534:65534", root]);
    scanAsNobody(ctx);
    const [a, b] = ["a", "b"].map((p) => at(ctx, p)) as [Row, Row];
    for (const d of [a, b]) {
      ctx.db.query("UPDATE datasets SET title = ? WHERE id = ?").run(`Title of ${d.path}`, d.id);
      expect(mirrorMetadata(ctx, d.id)).toBe(true);
    }
    chmodSync(path.join(root, "a/.mata/metadata.json"), 0o000);
    const report = asNobody(ctx, "rebuild");
    expect(report).toMatchObject({ mirrors: 1, unreadableMirrors: ["a"] });
    expect(report.scan.datasets).toMatchObject({ added: 2, present: 2 });
    const db = new Database(path.join(ctx.config.state, "mata.db"), { readonly: true });
    try {
      const rows = db
        .query<{ id: number; path: string; title: string; file_count: number }, []>("SELECT id, path, title, file_count FROM datasets ORDER BY path")
        .all();
      expect(rows).toEqual([
        { id: a.id, path: "a", title: "", file_count: 1 },
        { id: b.id, path: "b", title: "Title of b", file_count: 1 },
      ]);
    } finally {
      db.close();
    }
  });
});

describe("ELOOP", () => {
  test("a folder above the dataset level replaced by a symlink loop: recorded in a scoped scan, the other scopes whole", async () => {
    const ctx = ctxWith({ depth: 2 });
    const root = ctx.config.root;
    put(root, "lab/s1/a.tif", "1");
    put(root, "lab2/s2/b.tif", "22");
    await reconcileAll(ctx);
    const s1 = at(ctx, "lab/s1");
    renameSync(path.join(root, "lab"), path.join(ctx.dir, "lab-away"));
    // lab -> ../loop -> root/lab: every path through "lab" is refused with ELOOP.
    symlinkSync(path.join(ctx.dir, "loop"), path.join(root, "lab"));
    symlinkSync(path.join(root, "lab"), path.join(ctx.dir, "loop"));
    expect(() => readFileSync(path.join(root, "lab/s1/a.tif"))).toThrow(/ELOOP/);
    put(root, "lab2/s2/c.tif", "333");

    // The watcher's scopes: a dataset path below the loop (lstat through it), and the loop itself (readdir of it).
    const s = await reconcileScopes(ctx, ["lab/s1", "lab2/s2"]);
    expect(s.errors).toEqual(['cannot read "lab/s1": ELOOP']);
    expect(files(ctx, at(ctx, "lab2/s2").id)).toEqual(["b.tif", "c.tif"]);
    const s2 = await reconcileScopes(ctx, ["lab", "lab2"]);
    expect(s2.errors).toEqual(['cannot read folder "lab": ELOOP']);
    expect(s2.datasets.present).toBe(1);

    // A full scan sees a symlink where the folder was (never followed): its dataset is missing, nothing else moves.
    const full = await reconcileAll(ctx);
    expect(full.errors).toEqual([]);
    expect(datasets(ctx).find((d) => d.id === s1.id)?.state).toBe("missing");
    expect(at(ctx, "lab2/s2")).toMatchObject({ file_count: 2, scan_error: null });
  });

  test("symlink loops inside a dataset and in its sidecar are never followed: ignored or rewritten, the scan goes on", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/real.tif", "1");
    put(root, "d/sub/more.tif", "22");
    put(root, "e/e.tif", "333");
    put(root, "f/f.tif", "4444");
    await reconcileAll(ctx);
    const [d, e, f] = ["d", "e", "f"].map((p) => at(ctx, p)) as [Row, Row, Row];
    // Inside the dataset: a -> b -> a, and a self loop in a folder that is listed as bytes (it holds a non-UTF-8 name).
    symlinkSync("b", path.join(root, "d/a"));
    symlinkSync("a", path.join(root, "d/b"));
    writeFileSync(Buffer.concat([Buffer.from(path.join(root, "d/sub/")), Buffer.from([0x6c, 0xe9, 0x2e, 0x74, 0x69, 0x66])]), "x");
    symlinkSync("self", path.join(root, "d/sub/self"));
    expect(() => readFileSync(path.join(root, "d/a"))).toThrow(/ELOOP/);
    // The sidecar: identity.json a self loop in e; `.mata` itself a self loop in f.
    const eIdentity = path.join(root, "e/.mata/identity.json");
    renameSync(eIdentity, path.join(ctx.dir, "e-identity"));
    symlinkSync("identity.json", eIdentity);
    renameSync(path.join(root, "f/.mata"), path.join(ctx.dir, "f-mata"));
    symlinkSync(".mata", path.join(root, "f/.mata"));

    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ added: 0, copied: 0, removed: 0, present: 3 });
    expect(at(ctx, "d")).toMatchObject({ id: d.id, scan_error: null });
    expect(files(ctx, d.id)).toEqual(["real.tif", "sub/l\uFFFDE9.tif", "sub/more.tif"]);
    // The looping identity is replaced by a real file naming the same dataset.
    expect(at(ctx, "e")).toMatchObject({ id: e.id, file_count: 1, scan_error: null });
    expect(statSync(eIdentity).isFile()).toBe(true);
    expect(readIdentity(path.join(root, "e"))?.uid).toBe(e.uid);
    // A `.mata` that is a symlink is never written through: recorded, the dataset and its file kept.
    expect(at(ctx, "f")).toMatchObject({ id: f.id, file_count: 1 });
    expect(at(ctx, "f").scan_error).toMatch(/cannot write the sidecar: .*is not a folder/);
    expect(s.errors).toEqual([`f: ${at(ctx, "f").scan_error}`]);
  });
});

describe("EIO", () => {
  test("lstat, readdir and read failing with EIO from the kernel: recorded on each dataset, the others scanned whole", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    const backing = path.join(ctx.dir, "disk");
    const fsys = await mountFaulty(backing, root, path.join(ctx.dir, "faults.json"));
    cleanups.push(() => fsys.unmount());
    put(root, "a/ok.tif", "1");
    put(root, "b/top.tif", "22");
    put(root, "b/io/known.tif", "333");
    put(root, "c/bad.tif", "4444");
    put(root, "c/good.tif", "55555");
    put(root, "d/x.tif", "666666");
    let s = await reconcileAll(ctx);
    expect(s.errors).toEqual([]);
    expect(s.files.present).toBe(6);
    const [a, b, c, d] = ["a", "b", "c", "d"].map((p) => at(ctx, p)) as [Row, Row, Row, Row];
    put(root, "b/io/new.tif", "7");
    put(root, "c/new.tif", "8");

    fsys.setRules({
      readdir: { "/b/io": "EIO" },
      getattr: { "/c/bad.tif": "EIO" },
      read: { "/d/.mata/identity.json": "EIO" },
    });
    expect(() => readFileSync(path.join(root, "d/.mata/identity.json"))).toThrow(/EIO/);
    s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ added: 0, copied: 0, removed: 0, present: 4 });
    expect(at(ctx, "a")).toMatchObject({ id: a.id, file_count: 1, scan_error: null });
    // readdir: the folder's known files are kept, its new one waits.
    expect(at(ctx, "b")).toMatchObject({ id: b.id, scan_error: 'cannot read folder "io": EIO' });
    expect(files(ctx, b.id)).toEqual(["io/known.tif", "top.tif"]);
    // lstat of one file: recorded; the dataset's other files, old and new, are scanned.
    expect(at(ctx, "c")).toMatchObject({ id: c.id, scan_error: 'cannot read "bad.tif": EIO' });
    expect(files(ctx, c.id)).toContain("new.tif");
    expect(files(ctx, c.id)).toContain("good.tif");
    // read of the identity: taken as absent, the folder at its path is still the dataset.
    expect(at(ctx, "d")).toMatchObject({ id: d.id, uid: d.uid, file_count: 1, scan_error: null });
    expect(s.errors.sort()).toEqual(['b: cannot read folder "io": EIO', 'c: cannot read "bad.tif": EIO']);

    fsys.setRules({});
    s = await reconcileAll(ctx);
    expect(s.errors).toEqual([]);
    expect(files(ctx, b.id)).toEqual(["io/known.tif", "io/new.tif", "top.tif"]);
    expect(files(ctx, c.id)).toEqual(["bad.tif", "good.tif", "new.tif"]);
    expect(readIdentity(path.join(root, "d"))?.uid).toBe(d.uid);
  });
});

describe("EIO on a known entry", () => {
  // Known to fail today: the walk records the refused lstat but drops the entry, so a known file is taken for deleted
  // and a known dataset folder for missing. The fix is in walk.ts (name the entry in `unreadable`) with `p === u`
  // added to the two `unreadable` matchers (dataset-files.ts, reconcile.ts), held back while those files are being
  // rewritten (issue 10). Turn this into `test` when it lands.
  test("a known file or dataset folder whose lstat fails with EIO is kept as it was, not taken for deleted", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    const fsys = await mountFaulty(path.join(ctx.dir, "disk"), root, path.join(ctx.dir, "faults.json"));
    cleanups.push(() => fsys.unmount());
    put(root, "a/ok.tif", "1");
    put(root, "c/bad.tif", "4444");
    put(root, "c/good.tif", "55555");
    put(root, "e/sub/e.tif", "7777777");
    await reconcileAll(ctx);
    const [c, e] = ["c", "e"].map((p) => at(ctx, p)) as [Row, Row];
    fsys.setRules({ getattr: { "/c/bad.tif": "EIO", "/e": "EIO" } });
    const s = await reconcileAll(ctx);
    expect(s.errors.sort()).toEqual(['c: cannot read "bad.tif": EIO', 'cannot read "e": EIO']);
    expect(s.datasets).toMatchObject({ removed: 0, present: 2 });
    expect(s.files).toMatchObject({ removed: 0 });
    expect(files(ctx, c.id)).toEqual(["bad.tif", "good.tif"]);
    expect(at(ctx, "e")).toMatchObject({ id: e.id, file_count: 1 });
    expect(at(ctx, "a")).toMatchObject({ file_count: 1, scan_error: null });
    fsys.setRules({});
    expect((await reconcileAll(ctx)).errors).toEqual([]);
    expect(at(ctx, "c")).toMatchObject({ file_count: 2, scan_error: null });
  });
});
