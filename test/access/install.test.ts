// scripts/install-appliance into a DESTDIR: everything installed once, a second run changes nothing.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../support/env.ts";

const tmp = tempDir("mata-install-");
afterAll(() => tmp.cleanup());
const repo = path.resolve(import.meta.dir, "../..");

function install(): { code: number; out: string } {
  const r = Bun.spawnSync(
    [
      "bash",
      path.join(repo, "scripts/install-appliance"),
      "--binary",
      path.join(tmp.dir, "mata"),
      "--root",
      "/srv/mata",
      "--share",
      "lab",
      "--no-apt",
      "--no-systemd",
    ],
    {
      env: { ...process.env, DESTDIR: path.join(tmp.dir, "dest") },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

test("installs idempotently: TLS pair, config, PAM, unit, smb.conf include accepted by testparm", () => {
  // The executable under test: this checkout's CLI.
  writeFileSync(path.join(tmp.dir, "mata"), `#!/bin/sh\nexec ${process.execPath} ${path.join(repo, "src/main.ts")} "$@"\n`);
  chmodSync(path.join(tmp.dir, "mata"), 0o755);
  const first = install();
  expect(first).toMatchObject({ code: 0 });
  expect(first.out).toContain("generated a self-signed TLS pair");
  expect(first.out).toContain("testparm accepts");
  const dest = path.join(tmp.dir, "dest");
  expect(statSync(path.join(dest, "etc/mata/tls.key")).mode & 0o777).toBe(0o600);
  expect(readFileSync(path.join(dest, "etc/mata/tls.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
  expect(readFileSync(path.join(dest, "etc/mata/smb-mata.conf"), "utf8")).toContain("[lab]");
  expect(readFileSync(path.join(dest, "etc/mata/mata.toml"), "utf8")).toContain('cert = "/etc/mata/tls.crt"');
  expect(readFileSync(path.join(dest, "etc/systemd/system/mata.service"), "utf8")).toContain(
    "ExecStart=/usr/local/bin/mata serve --config /etc/mata/mata.toml",
  );
  expect(readFileSync(path.join(dest, "etc/pam.d/mata"), "utf8")).toContain("common-auth");
  const second = install();
  expect(second.code).toBe(0);
  expect(second.out).not.toMatch(/installed |generated|added the Mata include/);
  expect(readFileSync(path.join(dest, "etc/samba/smb.conf"), "utf8").match(/include = \/etc\/mata\/smb-mata.conf/g)?.length).toBe(1);
});

test("refuses bad arguments with a message", () => {
  const r = Bun.spawnSync(["bash", path.join(repo, "scripts/install-appliance"), "--root", "relative"], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(1);
  expect(r.stderr.toString()).toContain("--binary FILE is required");
});
