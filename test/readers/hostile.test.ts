// The hostile corpus (test/fixtures/hostile/) through the readers and the mesh builder in this process: every case
// fails with its own message naming the file (or builds, for the absurd values that are harmless), nothing hangs,
// and no case allocates what its header claims. The whole pipeline over the same corpus: test/security/hostile-corpus.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { scanVolumes, displayWindow } from "../../src/preview/readers/index.ts";
import { checkVolumeLimits } from "../../src/preview/limits.ts";
import { DEFAULT_LIMITS } from "../../src/config.ts";
import { buildMeshPreview } from "../../src/mesh/mesh.build.ts";
import { meshFormat } from "../../src/mesh/mesh.reader.ts";
import { CASES, readme, writeCorpus, type HostileCase } from "../fixtures/hostile/make.ts";
import { tempDir } from "../support/env.ts";
import { growthDuring } from "../support/memory.ts";

const CORPUS = path.join(import.meta.dir, "../fixtures/hostile");
const tmp = tempDir("mata-hostile-readers-");
afterAll(() => tmp.cleanup());
const root = path.join(tmp.dir, "root");
mkdirSync(root);
writeCorpus(root, { large: true });

/** What the build of one case comes to in this process: the error message, or the source when it was read whole. */
async function outcome(c: HostileCase): Promise<{ error?: string; file?: string; spacing?: number[] }> {
  const dir = path.join(root, c.dataset);
  if (meshFormat(c.file)) {
    try {
      await buildMeshPreview(path.join(dir, c.file), path.join(tmp.dir, "out", c.dataset, "mesh.glb"), { name: c.file });
      return {};
    } catch (e) {
      return { error: (e as Error).message, file: c.file };
    }
  }
  const files = Object.keys(c.files).filter((f) => !f.includes("/"));
  const { sources, failures } = await scanVolumes(dir, files);
  if (failures.length > 0) return { error: failures[0]!.message, file: failures[0]!.file };
  const source = sources.find((s) => s.file === c.file);
  if (!source) return { error: `no source for ${c.file}` };
  try {
    checkVolumeLimits(source.file, source, DEFAULT_LIMITS);
    await displayWindow(source);
    for (let z = 0; z < source.depth; z++) await source.readSlice(z);
    return { spacing: source.spacing };
  } catch (e) {
    // A volume found but not read keeps its preview under its own file, whichever file the message names.
    return { error: (e as Error).message, file: source.file };
  } finally {
    await source.close();
  }
}

test("the committed corpus is what make.ts writes, with its README", () => {
  const fresh = path.join(tmp.dir, "fresh");
  writeCorpus(fresh);
  const list = (dir: string, base = ""): string[] =>
    readdirSync(path.join(dir, base), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? list(dir, path.join(base, e.name)) : [path.join(base, e.name)],
    );
  const committed = list(CORPUS).filter((f) => f.includes("/"));
  expect(committed.sort()).toEqual(list(fresh).sort());
  for (const f of committed) expect({ f, same: readFileSync(path.join(CORPUS, f)).equals(readFileSync(path.join(fresh, f))) }).toEqual({ f, same: true });
  expect(readFileSync(path.join(CORPUS, "README.md"), "utf8")).toBe(readme());
  // Small enough to commit: the large cases are written at test time only.
  expect(committed.reduce((n, f) => n + statSync(path.join(CORPUS, f)).size, 0)).toBeLessThan(2 * 1024 * 1024);
});

const outcomes = new Map<string, Awaited<ReturnType<typeof outcome>>>();
let growth = 0;
beforeAll(async () => {
  // Every case once, watching this process's memory: the bombs and giants would take gigabytes.
  growth = await growthDuring(async () => {
    for (const c of CASES) outcomes.set(c.dataset, await outcome(c));
  });
}, 120_000);

describe("every hostile case in the readers", () => {
  for (const c of CASES) {
    test(`${c.dataset}: ${c.tests}`, () => {
      const got = outcomes.get(c.dataset)!;
      if (c.expect.state === "ready") {
        expect(got.error).toBeUndefined();
        if (c.expect.spacing) expect(got.spacing).toEqual(c.expect.spacing);
        return;
      }
      expect(got.error).toMatch(c.expect.error);
      // Named: the message starts with the file (or a file of the dataset it reads), and the error is filed under it.
      expect([c.file, ...Object.keys(c.files)].some((f) => got.error!.startsWith(`${f}: `))).toBe(true);
      expect(got.file).toBe(c.file);
      expect(got.error).not.toMatch(/unexpected error|undefined|\[object |RangeError|TypeError|\n\s+at /);
    });
  }
});

test("no case allocates what its header claims: this process grew far less than the bombs and giants would take", () => {
  // A 1 GiB deflate and LZW strip, 3 GB sparse .dcm and .xtekct (read whole before).
  expect(growth).toBeLessThan(500 * 1024 * 1024);
});

describe("kernel objects where a file was expected", () => {
  /** A dataset with a MetaImage header whose data file `vol.raw` is made by `make`. */
  function headerBeside(name: string, make: (file: string) => void): string {
    const dir = path.join(tmp.dir, "kernel", name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "vol.mhd"), "NDims = 3\nDimSize = 4 4 2\nElementType = MET_UCHAR\nElementDataFile = vol.raw\n");
    make(path.join(dir, "vol.raw"));
    return dir;
  }
  const mk = (...cmd: string[]) => expect(Bun.spawnSync(cmd).exitCode).toBe(0);

  test("a FIFO named as the data file is refused at once (its open would wait for a writer for ever)", async () => {
    const dir = headerBeside("fifo", (f) => mk("mkfifo", f));
    const t0 = performance.now();
    const { failures } = await scanVolumes(dir, ["vol.mhd"]);
    expect(failures.map((f) => f.message)).toEqual(["vol.raw: not a regular file (a FIFO)"]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test("a character device (a copy of /dev/zero) as a data file, a header or a mesh is refused, never read", async () => {
    const dir = headerBeside("device", (f) => mk("mknod", f, "c", "1", "5"));
    mk("mknod", path.join(dir, "big.xtekct"), "c", "1", "5");
    mk("mknod", path.join(dir, "m.stl"), "c", "1", "5");
    const { failures } = await scanVolumes(dir, ["vol.mhd", "big.xtekct"]);
    expect(failures.map((f) => f.message).sort()).toEqual(["big.xtekct: not a regular file (a device)", "vol.raw: not a regular file (a device)"]);
    await expect(buildMeshPreview(path.join(dir, "m.stl"), path.join(tmp.dir, "out", "device.glb"), { name: "m.stl" })).rejects.toThrow(
      "m.stl: not a regular file (a device)",
    );
  });
});
