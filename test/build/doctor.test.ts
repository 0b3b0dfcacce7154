// `mata doctor` from source: real checks on real folders; essential failures name the problem and fail the exit code.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { formatReport, runDoctor } from "../../src/doctor/doctor.service.ts";
import { checkInotify, checkPrivilege } from "../../src/doctor/checks.ts";
import { main } from "../../src/main.ts";
import { tempDir } from "../support/env.ts";

const tmp = tempDir("mata-doctor-");
afterAll(() => tmp.cleanup());
const root = path.join(tmp.dir, "root");
const state = path.join(tmp.dir, "state");
mkdirSync(path.join(root, "scan-a"), { recursive: true });

test("a working installation: sharp in a worker, writable state with SQLite in WAL, readable root; probes leave nothing behind", async () => {
  const report = await runDoctor(loadConfig({ root, state }, {}));
  const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  expect(report.ok).toBe(true);
  expect(report.compiled).toBe(false);
  expect(by.sharp).toMatchObject({ status: "ok", data: { inWorker: true, width: 320, height: 240 } });
  expect((by.sharp!.data as { jpegBytes: number }).jpegBytes).toBeGreaterThan(1000);
  expect(by.state?.status).toBe("ok");
  expect(by.sqlite?.status).toBe("ok");
  expect(by.root).toMatchObject({ status: "ok", data: { entries: 1 } });
  expect(["ok", "warn", "fail"]).toContain(by.smbd!.status);
  expect(by.inotify?.data?.maxUserWatches).toBeGreaterThan(0);
  expect(readdirSync(state)).toEqual([]);
  expect(formatReport(report)).toMatch(/^ok {4}sharp +libvips \d+\.\d+\.\d+ in a worker/);
  expect(formatReport(report)).toContain("all essential checks passed");
});

test("a state dir that cannot be made and a missing root are failures that name the path; the CLI exits 1", async () => {
  const blocker = path.join(tmp.dir, "a-file");
  writeFileSync(blocker, "not a folder");
  const badState = path.join(blocker, "state");
  const badRoot = path.join(tmp.dir, "no-root");
  const report = await runDoctor(loadConfig({ root: badRoot, state: badState }, {}));
  const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  expect(report.ok).toBe(false);
  expect(by.state).toMatchObject({ status: "fail", detail: expect.stringContaining(badState) });
  expect(by.sqlite).toMatchObject({ status: "fail", detail: expect.stringContaining("not tried") });
  expect(by.root).toMatchObject({ status: "fail", detail: expect.stringContaining(badRoot) });
  expect(formatReport(report)).toContain("3 failed");
  expect(await main(["doctor", "--json", "--root", badRoot, "--state", state])).toBe(1);
  expect(await main(["doctor", "--root", root, "--state", state])).toBe(0);
});

test("a root that is a file is not a root", async () => {
  const file = path.join(tmp.dir, "root-file");
  writeFileSync(file, "x");
  const report = await runDoctor(loadConfig({ root: file, state }, {}));
  expect(report.checks.find((c) => c.name === "root")).toMatchObject({ status: "fail", detail: `${file} is not a folder` });
});

test("a low inotify watch limit is a warning with the sysctl that fixes it, not a failure", () => {
  const proc = path.join(tmp.dir, "proc-inotify");
  mkdirSync(proc);
  writeFileSync(path.join(proc, "max_user_watches"), "8192\n");
  writeFileSync(path.join(proc, "max_user_instances"), "128\n");
  expect(checkInotify(proc)).toMatchObject({ status: "warn", detail: expect.stringContaining("fs.inotify.max_user_watches"), data: { maxUserWatches: 8192 } });
  writeFileSync(path.join(proc, "max_user_watches"), "1048576\n");
  expect(checkInotify(proc).status).toBe("ok");
});

test("privilege: root in one process is a warning; a missing or root account for `user` is a failure naming it", () => {
  expect(checkPrivilege(undefined, 0)).toMatchObject({ status: "warn", detail: expect.stringContaining('user = "mata"') });
  expect(checkPrivilege(undefined, 1000).status).toBe("ok");
  expect(checkPrivilege("no_such_account_zz")).toMatchObject({ status: "fail", detail: expect.stringContaining('user "no_such_account_zz"') });
  expect(checkPrivilege("root")).toMatchObject({ status: "fail", detail: expect.stringContaining("is root") });
  expect(checkPrivilege("nobody")).toMatchObject({ status: "ok", data: { user: "nobody", uid: 65534 } });
});
