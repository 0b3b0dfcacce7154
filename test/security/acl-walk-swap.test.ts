// The ACL walk runs as root and chowns and rewrites ACLs down a tree any share user can rearrange. A second process
// swaps a folder inside the dataset, and the dataset folder itself, for symlinks to an outside folder as fast as it
// can while walks and named-path fixes run: the outside folder keeps its owner and its ACLs, every time.
import { afterAll, expect, test } from "bun:test";
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fixPaths, walkTree, type AclPlan } from "../../src/access/acl.service.ts";

const base = mkdtempSync(path.join(os.tmpdir(), "mata-acl-swap-"));
const root = path.join(base, "root");
const outside = path.join(base, "outside");
afterAll(() => rmSync(base, { recursive: true, force: true }));

const DECOY_UID = 54321;
const plan: AclPlan = { ownerUid: 60001, users: new Map([[60002, 5]]), groups: new Map(), unresolved: [], sidecarUid: 0, hash: "swap" };
const getfacl = (p: string) => Bun.spawnSync(["getfacl", "-pR", p], { stdout: "pipe" }).stdout.toString();

function putBack(): void {
  const pairs: [string, string][] = [
    [path.join(root, "ds"), path.join(root, "ds.real")],
    [path.join(root, "ds", "a"), path.join(root, "ds", "a.real")],
  ];
  for (const [link, real] of pairs) {
    if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(link);
    if (existsSync(real)) renameSync(real, link);
  }
}

test("folders swapped for symlinks in a loop during 60 walks and named-path fixes: nothing outside changes owner or ACL", async () => {
  for (let i = 0; i < 20; i++) {
    mkdirSync(path.join(root, "ds", "a", `d${i}`), { recursive: true });
    writeFileSync(path.join(root, "ds", "a", `d${i}`, "f.raw"), "x");
    mkdirSync(path.join(outside, `d${i}`), { recursive: true });
    writeFileSync(path.join(outside, `d${i}`, "f.raw"), "outside");
    writeFileSync(path.join(outside, `f${i}.raw`), "outside");
  }
  Bun.spawnSync(["chown", "-R", `${DECOY_UID}:${DECOY_UID}`, outside]);
  chownSync(outside, DECOY_UID, DECOY_UID);
  const before = getfacl(outside);
  const loop = `cd '${root}'; while :; do mv ds/a ds/a.real; ln -s '${outside}' ds/a; rm ds/a; mv ds/a.real ds/a; mv ds ds.real; ln -s '${outside}' ds; rm ds; mv ds.real ds; done`;
  // Its own process group, so the kill also stops an `mv` it has started.
  const swapper = Bun.spawn(["setsid", "bash", "-c", loop], { stdout: "ignore", stderr: "ignore" });
  let walked = 0;
  const refusals: string[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      try {
        await walkTree(plan, root, "ds", () => true);
        fixPaths(plan, root, "ds", [`a/d${i % 20}/f.raw`, "a/d1", `a/d${(i + 7) % 20}`]);
        walked++;
      } catch (e) {
        // The dataset folder itself was a symlink at that moment: refused as a whole, never followed.
        refusals.push(String((e as NodeJS.ErrnoException).code ?? (e as Error).message));
      }
      // Give the swapper the processor now and then, so swaps land inside walks.
      if (i % 5 === 0) await Bun.sleep(5);
    }
  } finally {
    process.kill(-swapper.pid, "SIGKILL");
    await swapper.exited;
    await Bun.sleep(50);
    putBack();
  }
  expect(walked).toBeGreaterThan(0);
  expect(getfacl(outside)).toBe(before);
  for (const r of refusals) expect(r).toMatch(/^(ELOOP|ENOENT|ENOTDIR)$/);
  for (const p of [outside, path.join(outside, "d3"), path.join(outside, "d3", "f.raw"), path.join(outside, "f3.raw")]) expect(statSync(p).uid).toBe(DECOY_UID);
  // Undisturbed, the walk does reach the whole dataset.
  await walkTree(plan, root, "ds", () => true);
  expect(statSync(path.join(root, "ds", "a", "d3", "f.raw")).uid).toBe(60001);
  expect(getfacl(path.join(root, "ds", "a", "d3", "f.raw"))).toContain("user:60002:r--");
}, 120_000);
