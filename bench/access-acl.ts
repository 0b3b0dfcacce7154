// Writing grants to a big tree: `find -exec setfacl --set ... {} +` (the reference, batched) against
// Mata's writer (one lsetxattr per entry through bun:ffi, writing only what differs), plus the drift
// check: `getfacl -R` reading every ACL against Mata's stat walk. Each write run must change every
// entry (the grant set alternates), so both sides do the same work. Run as root.
//
//   bun bench/access-acl.ts [--dirs 20] [--files 1000]
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { walkTree, type AclPlan } from "../src/access/acl.service.ts";
import { tempDir } from "../test/support/env.ts";

const { values } = parseArgs({ options: { dirs: { type: "string", default: "20" }, files: { type: "string", default: "1000" } } });
const DIRS = Number(values.dirs);
const FILES = Number(values.files);
const tmp = tempDir("mata-acl-bench-");
const root = path.join(tmp.dir, "ds");
for (let d = 0; d < DIRS; d++) {
  mkdirSync(path.join(root, `d${d}`), { recursive: true });
  for (let f = 0; f < FILES; f++) writeFileSync(path.join(root, `d${d}`, `f${f}.tif`), "");
}
const entries = DIRS * FILES + DIRS + 1;

const plan = (viewer: number): AclPlan => ({
  ownerUid: null,
  users: new Map([
    [60001, 7],
    [viewer, 5],
  ]),
  groups: new Map(),
  unresolved: [],
  sidecarUid: 0,
  hash: String(viewer),
});

function setfacl(viewer: number): number {
  const dirSpec = `u::rwx,g::r-x,o::r-x,u:60001:rwx,u:${viewer}:r-x,m::rwx,d:u::rwx,d:g::---,d:o::---,d:u:60001:rwx,d:u:${viewer}:r-x,d:m::rwx`;
  const fileSpec = `u::rw-,g::---,o::---,u:60001:rw-,u:${viewer}:r--,m::rw-`;
  const t0 = performance.now();
  for (const [type, spec] of [
    ["d", dirSpec],
    ["f", fileSpec],
  ] as const) {
    const r = Bun.spawnSync(["find", root, "-type", type, "-exec", "setfacl", "--set", spec, "{}", "+"], { stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`setfacl failed: ${r.stderr.toString()}`);
  }
  return performance.now() - t0;
}

async function ours(viewer: number, select: () => boolean = () => true): Promise<{ ms: number; changed: number }> {
  const t0 = performance.now();
  const r = await walkTree(plan(viewer), tmp.dir, "ds", select);
  return { ms: performance.now() - t0, changed: r.changed };
}

function getfaclAll(): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(["getfacl", "-R", "-p", root], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`getfacl failed: ${r.stderr.toString()}`);
  return performance.now() - t0;
}

const ref: number[] = [];
const mine: number[] = [];
for (let round = 0; round < 3; round++) {
  ref.push(setfacl(60010 + round));
  const o = await ours(60020 + round);
  if (o.changed !== entries) throw new Error(`expected ${entries} entries changed, got ${o.changed}`);
  mine.push(o.ms);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`tree: ${entries} entries (${DIRS} folders x ${FILES} files)`);
console.log(
  `write all: setfacl (find -exec +) ${median(ref).toFixed(0)} ms, mata (ffi lsetxattr) ${median(mine).toFixed(0)} ms, ratio ${(median(ref) / median(mine)).toFixed(2)}x`,
);

// Drift check on an unchanged tree: read everything (getfacl -R, or our compare-all) vs our stat walk.
const readAll = median([getfaclAll(), getfaclAll(), getfaclAll()]);
const compareAll = median([(await ours(60022)).ms, (await ours(60022)).ms, (await ours(60022)).ms]);
const statOnly = median([(await ours(60022, () => false)).ms, (await ours(60022, () => false)).ms, (await ours(60022, () => false)).ms]);
console.log(
  `drift check, unchanged tree: getfacl -R ${readAll.toFixed(0)} ms, mata compare-all ${compareAll.toFixed(0)} ms, mata ctime walk ${statOnly.toFixed(0)} ms`,
);
tmp.cleanup();
