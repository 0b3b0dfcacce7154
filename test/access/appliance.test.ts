// `mata appliance render`: the files are filled for the host, and Samba's own parser accepts the share.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { applianceCommand } from "../../src/cli/appliance.ts";
import { fillTemplate, renderAppliance, ApplianceError } from "../../src/access/appliance.service.ts";
import { loadConfig } from "../../src/config.ts";
import { tempDir } from "../support/env.ts";

const tmp = tempDir("mata-appliance-");
afterAll(() => tmp.cleanup());

function testparm(include: string): { code: number; out: string } {
  const conf = path.join(path.dirname(include), "testparm-smb.conf");
  writeFileSync(conf, `[global]\n  server role = standalone server\n  workgroup = MATATEST\n  disable netbios = yes\ninclude = ${include}\n`);
  const r = Bun.spawnSync(["testparm", "-s", "-v", conf], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

describe("appliance render", () => {
  test("renders every file for this host; testparm accepts the share include", async () => {
    const out = path.join(tmp.dir, "plain");
    const root = path.join(tmp.dir, "share root");
    const log = console.log;
    const printed: string[] = [];
    console.log = (s: string) => printed.push(s);
    try {
      const code = await applianceCommand.run({
        values: { out, root, state: path.join(tmp.dir, "state"), listen: "0.0.0.0:8443", hostname: "labbox", share: "research" },
        positionals: ["render"],
      });
      expect(code).toBe(0);
    } finally {
      console.log = log;
    }
    expect(printed.map((p) => path.relative(out, p)).sort()).toEqual(["mata.toml", "pam.d/mata", "smb-mata.conf", "systemd/mata.service"]);
    const smb = readFileSync(path.join(out, "smb-mata.conf"), "utf8");
    expect(smb).toContain("[research]");
    expect(smb).toContain(`path = ${root}`);
    expect(smb).not.toContain("{{");
    expect(smb).not.toContain("realm =");
    const parsed = testparm(path.join(out, "smb-mata.conf"));
    expect(parsed.code).toBe(0);
    for (const option of [
      "create mask = 0666",
      "directory mask = 0777",
      "inherit acls = Yes",
      "store dos attributes = Yes",
      "hide unreadable = No",
      "map acl inherit = No",
      "restrict anonymous = 2",
    ]) {
      expect(parsed.out.toLowerCase()).toContain(option.toLowerCase());
    }
    expect(parsed.out).toContain(`path = ${root}`);
    expect(readFileSync(path.join(out, "pam.d/mata"), "utf8")).toContain("@include common-auth");
    const unit = readFileSync(path.join(out, "systemd/mata.service"), "utf8");
    expect(unit).toMatch(new RegExp(`ExecStart=.* serve --config ${out}/mata.toml`));
    expect(unit).toContain("WantedBy=multi-user.target");
    // Hardening systemd itself accepts (an unknown or misspelt key is only a warning: none may be printed).
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      `ReadWritePaths="${root}"`,
      "PrivateTmp=yes",
      "CapabilityBoundingSet=CAP_CHOWN",
      "MemoryMax=",
    ])
      expect(unit).toContain(line);
    expect(unit).not.toContain("CAP_SYS_ADMIN");
    const verify = Bun.spawnSync(["systemd-analyze", "verify", path.join(out, "systemd/mata.service")], { stdout: "pipe", stderr: "pipe" });
    expect(
      verify.stderr
        .toString()
        .replace(/^.*(Failed to open|No such file|is not executable|Command .* not found).*$/gm, "")
        .trim(),
    ).toBe("");
    // The rendered config is one Mata itself loads.
    const cfg = loadConfig({ config: path.join(out, "mata.toml") }, {});
    expect(cfg).toMatchObject({ root, host: "0.0.0.0", port: 8443, auth: "pam", acls: true, user: "mata" });
  });

  test("with a realm: smbd's dedicated keytab options, krb5 snippet, TLS and keytab in the config", () => {
    const out = path.join(tmp.dir, "kerberos");
    const config = loadConfig({ root: path.join(tmp.dir, "r"), state: path.join(tmp.dir, "s") }, {});
    const files = renderAppliance(config, {
      out,
      hostname: "labbox.lab.test",
      realm: "LAB.TEST",
      kdc: "kdc.lab.test:88",
      tlsCert: "/etc/mata/tls.crt",
      tlsKey: "/etc/mata/tls.key",
    });
    expect(Object.keys(files).sort()).toEqual(["krb5-mata.conf", "mata.toml", "pam.d/mata", "smb-mata.conf", "systemd/mata.service"]);
    expect(files["smb-mata.conf"]).toContain("realm = LAB.TEST");
    expect(files["smb-mata.conf"]).toContain(`dedicated keytab file = FILE:${out}/cifs.keytab`);
    expect(files["krb5-mata.conf"]).toContain("kdc = kdc.lab.test:88");
    expect(files["krb5-mata.conf"]).toContain("labbox.lab.test = LAB.TEST");
    expect(files["systemd/mata.service"]).toContain(`Environment=KRB5_CONFIG=${out}/krb5-mata.conf`);
    writeFileSync(path.join(tmp.dir, "k.toml"), files["mata.toml"]!);
    const cfg = loadConfig({ config: path.join(tmp.dir, "k.toml") }, {});
    expect(cfg.tls).toEqual({ cert: "/etc/mata/tls.crt", key: "/etc/mata/tls.key" });
    expect(cfg.kerberos?.keytab).toBe(`${out}/http.keytab`);
    const include = path.join(tmp.dir, "k-smb.conf");
    writeFileSync(include, files["smb-mata.conf"]!);
    const parsed = testparm(include);
    expect(parsed.code).toBe(0);
    expect(parsed.out).toContain("kerberos method = dedicated keytab");
  });

  test("bad values never reach a config file", async () => {
    const config = loadConfig({ root: "/srv/data", state: "/var/lib/mata" }, {});
    expect(() => renderAppliance(config, { out: "/tmp/x", realm: "lab.test" })).toThrow(ApplianceError);
    expect(() => renderAppliance(config, { out: "/tmp/x", shareName: "data]\n[evil" })).toThrow(/--share/);
    expect(() => renderAppliance(config, { out: "/tmp/x", hostname: "a b" })).toThrow(/hostname/);
    const bad = loadConfig({ root: "/srv/da\nta", state: "/var/lib/mata" }, {});
    expect(() => renderAppliance(bad, { out: "/tmp/x" })).toThrow(/root/);
    expect(() => fillTemplate("x = {{missing}}", {})).toThrow(/\{\{missing\}\} has no value/);
    expect(await applianceCommand.run({ values: {}, positionals: ["render"] }).catch((e: Error) => e.message)).toMatch(/--out DIR is required/);
    expect(existsSync("/tmp/x/smb-mata.conf")).toBe(false);
  });
});
