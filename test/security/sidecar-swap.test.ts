// Mata writes each dataset's `.mata` sidecar as root. A share user swaps the dataset folder, or `.mata` itself, for a
// symlink to an outside folder (or to another dataset's sidecar), once and then in a loop while metadata, identity
// and manifest writes run: nothing is ever written outside, and the other dataset's sidecar stays its own.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { registerShareRoot } from "../../src/platform/share-root.ts";
import { appendManifest, writeManifest } from "../../src/sync/manifest.ts";
import { readIdentity, writeIdentity, writeMetadataMirror } from "../../src/sync/sidecar.ts";

const base = mkdtempSync(path.join(os.tmpdir(), "mata-sidecar-swap-"));
const root = path.join(base, "root");
const outside = path.join(base, "outside");
afterAll(() => rmSync(base, { recursive: true, force: true }));
registerShareRoot(root);

const mirror = { title: "t", description: "", tags: [], parents: [], updatedAt: 0 };
const DS_UID = "11111111-1111-4111-8111-111111111111";
const OTHER_UID = "22222222-2222-4222-8222-222222222222";
const ds = path.join(root, "ds");

function putBack(): void {
  for (const [link, real] of [
    [ds, `${ds}.real`],
    [path.join(ds, ".mata"), path.join(ds, ".mata.real")],
  ] as const) {
    if (!existsSync(real)) continue;
    // A sidecar write may have made a fresh `.mata` while the real one was moved aside: the moved one goes back.
    rmSync(link, { recursive: true, force: true });
    renameSync(real, link);
  }
}

test("a dataset folder or its `.mata` that is a symlink is refused for writing and absent for reading", () => {
  mkdirSync(outside, { recursive: true });
  mkdirSync(path.join(root, "other"), { recursive: true });
  writeIdentity(path.join(root, "other"), { uid: OTHER_UID, createdAt: 1 });
  mkdirSync(ds, { recursive: true });
  writeIdentity(ds, { uid: DS_UID, createdAt: 1 });
  expect(readIdentity(ds)?.uid).toBe(DS_UID);

  // `.mata` a symlink to another dataset's sidecar: not read as this dataset's identity, not written through.
  renameSync(path.join(ds, ".mata"), path.join(ds, ".mata.real"));
  symlinkSync(path.join(root, "other", ".mata"), path.join(ds, ".mata"));
  expect(readIdentity(ds)).toBeUndefined();
  expect(() => writeIdentity(ds, { uid: "stolen", createdAt: 1 })).toThrow(/is not a folder/);
  expect(readIdentity(path.join(root, "other"))?.uid).toBe(OTHER_UID);
  putBack();

  // The dataset folder a symlink to an outside folder: refused at the dataset folder itself.
  renameSync(ds, `${ds}.real`);
  symlinkSync(outside, ds);
  expect(readIdentity(ds)).toBeUndefined();
  expect(() => writeMetadataMirror(ds, mirror)).toThrow(/ELOOP|ENOTDIR/);
  expect(() => writeManifest(ds, DS_UID, 1, [])).toThrow(/ELOOP|ENOTDIR/);
  expect(readdirSync(outside)).toEqual([]);
  putBack();
  expect(readIdentity(ds)?.uid).toBe(DS_UID);
});

test("swapped in a loop during 300 sidecar writes: nothing lands outside, the other dataset's sidecar is untouched", async () => {
  const otherBefore = readFileSync(path.join(root, "other", ".mata", "identity.json"), "utf8");
  const loop = `cd '${root}'; while :; do mv ds/.mata ds/.mata.real; ln -s '${root}/other/.mata' ds/.mata; rm ds/.mata; mv ds/.mata.real ds/.mata; mv ds ds.real; ln -s '${outside}' ds; rm ds; mv ds.real ds; done`;
  // Its own process group, so the kill also stops an `mv` it has started.
  const swapper = Bun.spawn(["setsid", "bash", "-c", loop], { stdout: "ignore", stderr: "ignore" });
  let written = 0;
  const refusals = new Set<string>();
  try {
    for (let i = 0; i < 300; i++) {
      try {
        if (i % 3 === 0) writeMetadataMirror(ds, { ...mirror, title: `t${i}` });
        else if (i % 3 === 1) writeManifest(ds, DS_UID, i, [{ path: "f.raw", size: i, mtimeMs: i, inode: 1 }]);
        else appendManifest(ds, i, [{ removed: "f.raw" }]);
        written++;
      } catch (e) {
        refusals.add(String((e as NodeJS.ErrnoException).code ?? (e as Error).message.replace(/^.* is not a folder$/, "not a folder")));
      }
      if (i % 10 === 0) await Bun.sleep(2);
    }
  } finally {
    process.kill(-swapper.pid, "SIGKILL");
    await swapper.exited;
    await Bun.sleep(50);
    putBack();
  }
  expect(written).toBeGreaterThan(0);
  for (const r of refusals) expect(["ELOOP", "ENOENT", "ENOTDIR", "not a folder"]).toContain(r);
  expect(readdirSync(outside)).toEqual([]);
  expect(readdirSync(path.join(root, "other", ".mata"))).toEqual(["identity.json"]);
  expect(readFileSync(path.join(root, "other", ".mata", "identity.json"), "utf8")).toBe(otherBefore);
}, 60_000);
