// Mata run by an ordinary user (a development setup) with acls on: grants work on the web, nothing is
// written to the tree, and the reason is reported instead of a failure.
import { afterAll, expect, test } from "bun:test";
import path from "node:path";
import { unixUsers } from "./users.ts";

const people = unixUsers(["dev"]);
afterAll(() => people.remove());

test("not root: the grant is saved, the share is left alone, acl.error says why", () => {
  const r = Bun.spawnSync([process.execPath, path.join(import.meta.dir, "not-root.probe.ts")], {
    cwd: path.resolve(import.meta.dir, "../.."),
    env: { ...process.env, MATA_LOG: "error" },
    stdout: "pipe",
    stderr: "pipe",
    uid: Number(Bun.spawnSync(["id", "-u", people.user.dev!]).stdout.toString()),
    gid: 100,
  });
  const out = r.stdout.toString();
  expect({ code: r.exitCode, err: r.stderr.toString().slice(-2000) }).toEqual({ code: 0, err: "" });
  const result = JSON.parse(out.trim().split("\n").pop()!);
  expect(result.status).toBe(200);
  expect(result.body.viewers).toEqual(["probe_viewer"]);
  expect(result.body.acl.error).toMatch(/not root: grants hold on the web only/);
  expect(result.acl).not.toContain("probe_viewer");
  expect(result.acl).not.toContain("default:");
});
