// Bad input on real trees: odd names, symlinks, fifos, sockets, unreadable folders, vanishing files, forged sidecars.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { bytesToName, fsPath, nameToBytes } from "../../src/sync/names.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { writeManifest } from "../../src/sync/manifest.ts";
import { readIdentity } from "../../src/sync/sidecar.ts";
import { testContext } from "../support/env.ts";
import { at, datasets, fileRows, files, parents, put, scanAsNobody as scanAsNobodyIn, contextsPerTest } from "./helpers.ts";

// Real trees, processes and watchers on a shared machine: generous bounds, the waits inside are specific.
setDefaultTimeout(60_000);

const { ctxWith, cleanups } = contextsPerTest();

describe("names", () => {
  test("invalid UTF-8 and literal U+FFFD round-trip exactly and never collide", () => {
    const cases = [
      Buffer.from("plain.tif"),
      Buffer.from([0x62, 0xff, 0xfe, 0x2e]),
      Buffer.from("x\uFFFDFF"),
      Buffer.from([0x78, 0xff]),
      Buffer.from("é\uFFFD~"),
      Buffer.from([0xe2, 0x82]),
      Buffer.from([0xed, 0xa0, 0x80]),
    ];
    const names = cases.map(bytesToName);
    expect(new Set(names).size).toBe(cases.length);
    cases.forEach((b, i) => expect(nameToBytes(names[i]!).equals(b)).toBe(true));
    expect(names[0]).toBe("plain.tif");
    expect(names[1]).toBe("b\uFFFDFF\uFFFDFE.");
  });

  test("spaces, unicode, newlines, 255-byte names and invalid UTF-8, in files and dataset folders", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    const long = "L".repeat(251) + ".tif";
    const uni = "Ünïcødé 頭部 🧠.nii";
    put(root, "my scan/with space.tif", "1");
    put(root, `my scan/${uni}`, "22");
    put(root, "my scan/line\nbreak.raw", "333");
    put(root, `my scan/${long}`, "4444");
    const bad = Buffer.concat([Buffer.from(path.join(root, "my scan") + "/"), Buffer.from([0x6f, 0x6c, 0x64, 0xe9, 0x2e, 0x74, 0x69, 0x66])]);
    writeFileSync(bad, "55555");
    const badDir = Buffer.concat([Buffer.from(root + "/"), Buffer.from([0x4c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0xe9])]);
    mkdirSync(badDir);
    writeFileSync(Buffer.concat([badDir, Buffer.from("/a.tif")]), "x");
    const s = await reconcileAll(ctx);
    expect(s.errors).toEqual([]);
    const d = at(ctx, "my scan");
    expect(files(ctx, d.id).sort()).toEqual(["line\nbreak.raw", long, "old\uFFFDE9.tif", "with space.tif", uni].sort());
    expect(Buffer.byteLength(long)).toBe(255);
    expect(d.byte_count).toBe(15);
    // The stored name opens the very file.
    expect(readFileSync(fsPath(path.join(root, "my scan"), "old\uFFFDE9.tif"), "utf8")).toBe("55555");
    const latin = at(ctx, "Latin1\uFFFDE9");
    expect(files(ctx, latin.id)).toEqual(["a.tif"]);
    expect(readIdentity(fsPath(root, latin.path))?.uid).toBe(latin.uid);
    const again = await reconcileAll(ctx);
    expect(again.datasets).toMatchObject({ added: 0, removed: 0, copied: 0, present: 2 });
    expect(again.files).toMatchObject({ added: 0, removed: 0, modified: 0 });
  });
});

describe("special files", () => {
  test("symlinks are never followed out of the root; fifos and sockets are skipped", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    const outside = path.join(ctx.dir, "outside");
    put(outside, "secret/s.txt", "secret");
    put(root, "d/real.tif", "r");
    symlinkSync(path.join(outside, "secret"), path.join(root, "d/link-to-dir"));
    symlinkSync(path.join(outside, "secret/s.txt"), path.join(root, "d/link-to-file"));
    symlinkSync(path.join(outside, "secret"), path.join(root, "linked-dataset"));
    symlinkSync("/", path.join(root, "d/rootlink"));
    Bun.spawnSync(["mkfifo", path.join(root, "d/pipe")]);
    expect(lstatSync(path.join(root, "d/pipe")).isFIFO()).toBe(true);
    const sock = path.join(root, "d/sock");
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once("listening", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const s = await reconcileAll(ctx);
    expect(s.errors).toEqual([]);
    expect(datasets(ctx).map((x) => x.path)).toEqual(["d"]);
    expect(files(ctx, at(ctx, "d").id)).toEqual(["real.tif"]);
  });
});

describe("unreadable and vanishing", () => {
  test("a subfolder the service cannot read is reported on the dataset, its known files are kept, and the scan continues", () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "a/ok.tif", "1");
    put(root, "a/locked/known.tif", "2");
    put(root, "b/fine.tif", "3");
    // Run the real CLI as an unprivileged user (root reads everything), owning the tree.
    Bun.spawnSync(["chown", "-R", "65534:65534", root, ctx.config.state]);
    const scanAsNobody = () => scanAsNobodyIn(ctx);
    expect(scanAsNobody().files.present).toBe(3);
    put(root, "a/locked/new.tif", "4");
    chmodSync(path.join(root, "a/locked"), 0o000);
    try {
      const summary = scanAsNobody();
      expect(summary.datasets.present).toBe(2);
      expect(summary.errors).toEqual(['a: cannot read folder "locked": EACCES']);
      expect(at(ctx, "a")).toMatchObject({ file_count: 2, scan_error: 'cannot read folder "locked": EACCES' });
      expect(files(ctx, at(ctx, "a").id)).toEqual(["locked/known.tif", "ok.tif"]);
      expect(at(ctx, "b")).toMatchObject({ file_count: 1, scan_error: null });
    } finally {
      chmodSync(path.join(root, "a/locked"), 0o755);
    }
    expect(scanAsNobody().errors).toEqual([]);
    expect(at(ctx, "a")).toMatchObject({ file_count: 3, scan_error: null });
  }, 60_000);

  test("depth 2: datasets below a parent folder that cannot be read stay as they were; a vanished root changes nothing", async () => {
    const ctx = ctxWith({ depth: 2 });
    const root = ctx.config.root;
    put(root, "lab-a/s1/a.tif", "1");
    put(root, "lab-b/s2/b.tif", "2");
    Bun.spawnSync(["chown", "-R", "65534:65534", root, ctx.config.state]);
    const scanAsNobody = () => scanAsNobodyIn(ctx, ["--depth", "2"]);
    expect(scanAsNobody().datasets.added).toBe(2);
    chmodSync(path.join(root, "lab-a"), 0o000);
    try {
      const s = scanAsNobody();
      expect(s.errors).toEqual(['cannot read folder "lab-a": EACCES']);
      expect(s.datasets).toMatchObject({ removed: 0, present: 1 });
      expect(at(ctx, "lab-a/s1").file_count).toBe(1);
    } finally {
      chmodSync(path.join(root, "lab-a"), 0o755);
    }
    renameSync(root, `${root}-unmounted`);
    await expect(reconcileAll(ctx)).rejects.toThrow(/not a folder/);
    renameSync(`${root}-unmounted`, root);
    expect(datasets(ctx).map((d) => d.state)).toEqual(["present", "present"]);
  }, 60_000);

  test("a sidecar is never written into a dataset folder that vanished (it is not re-created)", () => {
    const ctx = ctxWith();
    const gone = path.join(ctx.config.root, "gone");
    expect(() => writeManifest(gone, "00000000-0000-4000-8000-000000000000", 1, [])).toThrow(/ENOENT/);
    expect(existsSync(gone)).toBe(false);
  });

  test("files vanishing while the scan runs are tolerated; the next scan is exact", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, `ds${d}`, "x"), { recursive: true });
      for (let i = 0; i < 1000; i++) writeFileSync(path.join(root, `ds${d}`, "x", `f${i}`), "v");
    }
    await reconcileAll(ctx);
    for (let d = 0; d < 20; d++) writeFileSync(path.join(root, `ds${d}`, "x", "f0"), "changed so the files are compared");
    const rm = Bun.spawn(["bash", "-c", `for d in ${root}/ds*/x; do find "$d" -name 'f*5' -delete; done`]);
    const s = await reconcileAll(ctx);
    await rm.exited;
    expect(s.errors).toEqual([]);
    await reconcileAll(ctx);
    for (let d = 0; d < 20; d++) expect(at(ctx, `ds${d}`).file_count).toBe(900);
  }, 60_000);
});

describe("sidecars are untrusted", () => {
  test("a corrupt identity at a known path keeps the dataset and is rewritten; a symlinked .mata is refused", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/a", "1");
    put(root, "e/b", "2");
    await reconcileAll(ctx);
    const d = at(ctx, "d");
    writeFileSync(path.join(root, "d/.mata/identity.json"), '{"uid": "not-a-uid", "createdAt": 1');
    writeFileSync(path.join(root, "d/.mata/manifest.json"), "[[[");
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ added: 0, copied: 0, removed: 0 });
    expect(at(ctx, "d").id).toBe(d.id);
    expect(readIdentity(path.join(root, "d"))?.uid).toBe(d.uid);
    // A sidecar folder that is a symlink to another dataset's is never written through.
    const e = at(ctx, "e");
    renameSync(path.join(root, "e/.mata"), path.join(ctx.dir, "e-mata"));
    symlinkSync(path.join(root, "d/.mata"), path.join(root, "e/.mata"));
    const s2 = await reconcileAll(ctx);
    expect(readIdentity(path.join(root, "d"))?.uid).toBe(d.uid);
    expect(at(ctx, "d").id).toBe(d.id);
    expect(s2.errors.join()).toContain("cannot write the sidecar");
    expect(at(ctx, "e").id).toBe(e.id);
  });

  test("a forged sidecar claiming another dataset's uid never takes it over, whether the original is present or gone", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "victim/data.tif", "precious");
    put(root, "victim2/data.tif", "precious too");
    await reconcileAll(ctx);
    const victim = at(ctx, "victim");
    const victim2 = at(ctx, "victim2");
    ctx.db.query("UPDATE datasets SET title = 'Victim' WHERE id IN (?, ?)").run(victim.id, victim2.id);
    // Present original: the forger is a copy, the victim untouched.
    put(root, "forger/.mata/identity.json", JSON.stringify({ uid: victim.uid, createdAt: 1 }));
    put(root, "forger/junk.bin", "junk");
    // Original gone: a folder with the victim's identity but other content is still not the victim.
    renameSync(path.join(root, "victim2"), path.join(ctx.dir, "victim2-away"));
    put(root, "forger2/.mata/identity.json", JSON.stringify({ uid: victim2.uid, createdAt: 1 }));
    put(root, "forger2/other.bin", "other");
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ copied: 2, renamed: 0, restored: 0, removed: 1 });
    expect(at(ctx, "victim")).toMatchObject({ id: victim.id, uid: victim.uid, title: "Victim", file_count: 1 });
    expect(datasets(ctx).find((x) => x.id === victim2.id)).toMatchObject({ state: "missing", path: "victim2", title: "Victim" });
    const f1 = at(ctx, "forger");
    const f2 = at(ctx, "forger2");
    expect([f1.title, f2.title]).toEqual(["", ""]);
    expect(parents(ctx, f1.id)).toEqual([victim.id]);
    expect(parents(ctx, f2.id)).toEqual([victim2.id]);
    expect(readIdentity(path.join(root, "forger"))?.uid).toBe(f1.uid);
    // The genuine folder coming back is restored with its metadata.
    renameSync(path.join(ctx.dir, "victim2-away"), path.join(root, "victim2"));
    expect((await reconcileAll(ctx)).datasets.restored).toBe(1);
    expect(at(ctx, "victim2")).toMatchObject({ id: victim2.id, title: "Victim" });
  });

  test("an unknown uid written over a known dataset's identity (another process, a forger) keeps the dataset", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "d/a", "1");
    await reconcileAll(ctx);
    const d = at(ctx, "d");
    writeFileSync(path.join(root, "d/.mata/identity.json"), JSON.stringify({ uid: "11111111-2222-4333-8444-555555555555", createdAt: 5 }));
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ added: 0, removed: 0, copied: 0 });
    expect(at(ctx, "d").id).toBe(d.id);
    expect(readIdentity(path.join(root, "d"))?.uid).toBe(d.uid);
  });

  test("a genuine move across file systems (new folder inode, same files) is still a move", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    put(root, "orig/a.tif", "aaaa");
    put(root, "orig/b.tif", "bb");
    await reconcileAll(ctx);
    const o = at(ctx, "orig");
    cpSync(path.join(root, "orig"), path.join(root, "moved"), { recursive: true, preserveTimestamps: true });
    Bun.spawnSync(["rm", "-rf", path.join(root, "orig")]);
    const s = await reconcileAll(ctx);
    expect(s.datasets).toMatchObject({ renamed: 1, copied: 0 });
    expect(at(ctx, "moved").id).toBe(o.id);
  });
});

describe("size", () => {
  test("a 10,000-file dataset: listed whole, and a one-file change after it is cheap", async () => {
    const ctx = ctxWith();
    const root = ctx.config.root;
    for (let d = 0; d < 10; d++) {
      mkdirSync(path.join(root, "huge", `part${d}`), { recursive: true });
      for (let i = 0; i < 1000; i++) writeFileSync(path.join(root, "huge", `part${d}`, `slice${i}.dcm`), `${d}-${i}`);
    }
    const s = await reconcileAll(ctx);
    expect(s.files.added).toBe(10000);
    const d = at(ctx, "huge");
    expect(d.file_count).toBe(10000);
    const before = fileRows(ctx, d.id).get("part3/slice7.dcm")!.id;
    renameSync(path.join(root, "huge/part3/slice7.dcm"), path.join(root, "huge/part9/slice7-moved.dcm"));
    const s2 = await reconcileAll(ctx);
    expect(s2.files).toMatchObject({ renamed: 1, added: 0, removed: 0 });
    expect(fileRows(ctx, d.id).get("part9/slice7-moved.dcm")!.id).toBe(before);
    expect(existsSync(path.join(root, "huge/.mata/manifest.json"))).toBe(true);
  }, 60_000);
});

describe("one bad entry never ends a scan", () => {
  test("a file whose path is over the kernel's 4,096-byte limit is reported on its dataset; the others are scanned whole", async () => {
    const ctx = testContext();
    const root = ctx.config.root;
    put(root, "before/a.tif", "a");
    put(root, "zafter/b.tif", "bb");
    // Nested folders just under the limit, then a file whose full path is over it (made with relative paths).
    const segments = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, "0")}${"d".repeat(250)}`);
    const made = Bun.spawnSync([
      "bash",
      "-c",
      `mkdir -p "$1" && cd "$1" && for s in "\${@:2}"; do mkdir "$s" && cd "$s" || exit 1; done && echo x > "${"f".repeat(200)}.tif"`,
      "mk",
      path.join(root, "deep"),
      ...segments,
    ]);
    expect(made.exitCode).toBe(0);
    try {
      const s = await reconcileAll(ctx);
      expect(s.datasets.present).toBe(3);
      expect(files(ctx, at(ctx, "before").id)).toEqual(["a.tif"]);
      expect(files(ctx, at(ctx, "zafter").id)).toEqual(["b.tif"]);
      expect(at(ctx, "deep").scan_error).toMatch(/ENAMETOOLONG/);
      expect(s.errors.join("\n")).toMatch(/deep: .*ENAMETOOLONG/);
    } finally {
      // rm cannot remove what it cannot name either: walk down and back with relative paths.
      Bun.spawnSync(["rm", "-rf", path.join(root, "deep")]);
      ctx.cleanup();
    }
  });
});
