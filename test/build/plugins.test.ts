// The build's parts one by one: worker URL rewriting, the sharp native files and their cache layout,
// and the choice of cache folder (never a noexec mount).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { findWorkerEntrypoints, rewriteWorkerUrls } from "../../scripts/worker-entry.plugin.ts";
import { embeddedLoaderSource, resolveSharpNativeFiles } from "../../scripts/sharp-embed.plugin.ts";
import { cacheDirCandidates, chooseCacheDir, isNoexecMount } from "../../scripts/sharp-embedded.runtime.ts";
import { tempDir } from "../support/env.ts";

const PROJECT = path.resolve(import.meta.dir, "../..");
const tmp = tempDir("mata-plugins-");
afterAll(() => tmp.cleanup());

describe("worker entrypoints", () => {
  test("every *.worker.ts under src is found, including the doctor's", () => {
    const found = findWorkerEntrypoints(path.join(PROJECT, "src")).map((f) => path.relative(PROJECT, f));
    expect(found).toContain("src/doctor/sharp.worker.ts");
    expect(found.every((f) => f.endsWith(".worker.ts"))).toBe(true);
    expect([...found].sort()).toEqual(found);
  });

  test("worker URLs become the worker's embedded path; a URL to a file that is no worker entrypoint fails the build", () => {
    const src = "/p/src";
    const workers = new Set(["/p/src/jobs/tile.worker.ts", "/p/src/doctor/sharp.worker.ts"]);
    const code = `const a = new Worker(new URL("./tile.worker.ts", import.meta.url));\nconst b = new Worker(new URL( '../doctor/sharp.worker.ts' , import.meta.url ).href);`;
    const out = rewriteWorkerUrls(code, "/p/src/jobs/queue.ts", src, workers);
    expect(out).toBe(
      `const a = new Worker(new URL("file:///$bunfs/root/jobs/tile.worker.ts"));\nconst b = new Worker(new URL("file:///$bunfs/root/doctor/sharp.worker.ts").href);`,
    );
    expect(rewriteWorkerUrls(`new URL("./data.json", import.meta.url)`, "/p/src/a.ts", src, workers)).toBe(`new URL("./data.json", import.meta.url)`);
    expect(() => rewriteWorkerUrls(`new URL("./gone.worker.ts", import.meta.url)`, "/p/src/jobs/q.ts", src, workers)).toThrow(
      /gone\.worker\.ts resolves to \/p\/src\/jobs\/gone\.worker\.ts/,
    );
  });
});

describe("sharp native files", () => {
  test("found in the installed packages, keyed by versions and content, laid out so the addon's RPATH finds libvips", () => {
    const f = resolveSharpNativeFiles(PROJECT);
    expect(f.key).toMatch(/^sharp-\d+\.\d+\.\d+-vips-\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    expect(f.addon.rel).toMatch(new RegExp(`^@img/sharp-${f.platform}/lib/[^/]+\\.node$`));
    expect(f.libvips.rel).toMatch(new RegExp(`^@img/sharp-libvips-${f.platform}/lib/libvips-cpp\\.so\\.`));
    // What the dynamic loader will do: $ORIGIN of the addon plus each RPATH entry must reach the libvips file.
    const elf = Bun.spawnSync(["readelf", "-d", f.addon.abs], { stdout: "pipe" }).stdout.toString();
    const rpath = /\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]/.exec(elf)?.[1];
    expect(rpath).toBeDefined();
    const cacheRoot = "/cache/key";
    const origin = path.posix.dirname(path.posix.join(cacheRoot, f.addon.rel));
    const dirs = rpath!.split(":").map((p) => path.posix.normalize(p.replace("$ORIGIN", origin)));
    expect(dirs).toContain(path.posix.dirname(path.posix.join(cacheRoot, f.libvips.rel)));
    const needed = [...elf.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    expect(needed).toContain(path.posix.basename(f.libvips.rel));
  });

  test("the generated loader embeds both files and exports the addon for import and require", () => {
    const f = resolveSharpNativeFiles(PROJECT);
    const code = embeddedLoaderSource(f, "/x/runtime.ts");
    expect(code).toContain(`import addon from ${JSON.stringify(f.addon.abs)} with { type: "file" }`);
    expect(code).toContain(`import libvips from ${JSON.stringify(f.libvips.abs)} with { type: "file" }`);
    expect(code).toContain(`native as "module.exports"`);
  });
});

describe("cache folder", () => {
  const mountinfo = (noexecAt: string) =>
    [
      `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`,
      `30 22 0:25 / ${noexecAt} rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw`,
      `31 30 0:26 / ${noexecAt}/exec\\040ok rw,relatime shared:6 - tmpfs tmpfs rw`,
    ].join("\n");

  test("candidates: MATA_CACHE_DIR alone when set, else systemd, state, XDG, home, /var/tmp in that order", () => {
    expect(cacheDirCandidates({ MATA_CACHE_DIR: "/c", MATA_STATE: "/s" })).toEqual(["/c"]);
    const c = cacheDirCandidates({ CACHE_DIRECTORY: "/var/cache/mata:/other", MATA_STATE: "/srv/state", XDG_CACHE_HOME: "/x", HOME: "/home/u" });
    expect(c.slice(0, 4)).toEqual(["/var/cache/mata", "/srv/state/.cache", "/x/mata", "/home/u/.cache/mata"]);
    expect(c[4]).toMatch(/^\/var\/tmp\/mata-cache-/);
  });

  test("a noexec mount is recognised by the longest mount point, with escaped spaces", () => {
    const base = realpathSync(tmp.dir);
    const info = mountinfo(base);
    expect(isNoexecMount(path.join(base, "a", "b"), info)).toBe(true);
    mkdirSync(path.join(tmp.dir, "exec ok"));
    expect(isNoexecMount(path.join(base, "exec ok", "cache"), info)).toBe(false);
    expect(isNoexecMount("/usr/lib", info)).toBe(false);
  });

  test("a noexec candidate is skipped for the next; an explicit noexec MATA_CACHE_DIR is an error naming it", () => {
    const base = realpathSync(tmp.dir);
    const noexecState = path.join(base, "state");
    const home = path.join(base, "exec ok", "home");
    const info = mountinfo(base);
    expect(chooseCacheDir({ MATA_STATE: noexecState, HOME: home }, info)).toBe(path.join(home, ".cache", "mata"));
    expect(() => chooseCacheDir({ MATA_CACHE_DIR: path.join(base, "c") }, info)).toThrow(/noexec mount.*set MATA_CACHE_DIR/);
  });
});
