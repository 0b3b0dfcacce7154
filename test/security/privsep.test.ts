// Privilege separation: `serve` started as root with `user` runs the web, watcher, parsers and tiler as that account
// with one read-only capability, and a root helper does what needs root, checking every request on its own side.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { loadConfig, type Config } from "../../src/config.ts";
import { helperHandler } from "../../src/privilege/helper.ts";
import { localPrivileged } from "../../src/privilege/privileged.ts";
import type { HelperReply } from "../../src/privilege/protocol.ts";
import { writeIdentity } from "../../src/sync/sidecar.ts";
import { tempDir } from "../support/env.ts";
import { createUnixGroup, createUnixUser, writePamService, type UnixUser } from "../support/unix-users.ts";
import { childrenOf, serviceAccount, startSeparatedServer, uidOf, type SeparatedServer } from "../support/separated-server.ts";

const CAP_DAC_READ_SEARCH = 1n << 2n;

/** The fields of /proc/PID/status this test reads. */
function procStatus(pid: number): { uid: number; capEff: bigint; capBnd: bigint; noNewPrivs: boolean } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (k: string) => new RegExp(`^${k}:\\s+(.*)$`, "m").exec(s)?.[1]?.trim() ?? "";
  return {
    uid: Number(field("Uid").split(/\s+/)[1]),
    capEff: BigInt(`0x${field("CapEff")}`),
    capBnd: BigInt(`0x${field("CapBnd")}`),
    noNewPrivs: field("NoNewPrivs") === "1",
  };
}

describe("the root helper checks every request on its own side", () => {
  const tmp = tempDir("mata-helper-");
  const root = path.join(tmp.dir, "root");
  const outside = path.join(tmp.dir, "outside");
  const srv = serviceAccount();
  let config: Config;
  const replies = new Map<number, HelperReply>();
  let handler: ReturnType<typeof helperHandler>;
  let nextId = 1;
  const ask = async (op: string, args: Record<string, unknown>): Promise<HelperReply> => {
    const id = nextId++;
    handler.handle({ id, op, args });
    for (let i = 0; i < 500 && !replies.has(id); i++) await Bun.sleep(10);
    return replies.get(id)!;
  };
  const plan = { ownerUid: null, users: [], groups: [], unresolved: [], sidecarUid: srv.uid, hash: "h" };

  beforeAll(() => {
    mkdirSync(path.join(root, "ds"), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(root, "ds", "a.txt"), "a");
    writeFileSync(path.join(outside, "secret.txt"), "s");
    writeIdentity(path.join(root, "ds"), { uid: "11111111-1111-4111-8111-111111111111", createdAt: 1 });
    symlinkSync(outside, path.join(root, "swapped"));
    config = {
      ...loadConfig({ root, state: path.join(tmp.dir, "state") }, {}),
      rules: [{ glob: "*.txt", command: ["sh", "-c", "echo configured > ran.txt"], timeoutSeconds: 10 }],
    };
    handler = helperHandler({ config, serverUid: srv.uid, local: localPrivileged(config) }, (r) => "ok" in r && replies.set(r.id, r));
  });
  afterAll(() => {
    handler.close();
    srv.remove();
    tmp.cleanup();
  });

  const ds = { path: "ds", uid: "11111111-1111-4111-8111-111111111111" };

  test("paths that are not a dataset folder beneath the root are refused", async () => {
    for (const p of ["../outside", "/etc", "ds/../ds", ".mata", "ds/sub", "", "swapped"]) {
      const r = await ask("aclWalk", { dataset: { path: p, uid: ds.uid }, plan, since: -1 });
      expect(r.ok, p).toBe(false);
    }
    const swapped = await ask("aclWalk", { dataset: { path: "swapped", uid: ds.uid }, plan, since: -1 });
    expect(swapped.ok ? "" : swapped.error).toMatch(/cannot be opened beneath the root: ELOOP/);
    expect(statSync(path.join(outside, "secret.txt")).uid).toBe(0);
  });

  test("a folder holding another dataset's identity is refused; the right one is walked", async () => {
    const wrong = await ask("aclWalk", { dataset: { path: "ds", uid: "22222222-2222-4222-8222-222222222222" }, plan, since: -1 });
    expect(wrong.ok ? "" : wrong.error).toMatch(/now holds dataset 1111/);
    const right = await ask("aclWalk", { dataset: ds, plan, since: -1 });
    expect(right.ok).toBe(true);
    expect(statSync(path.join(root, "ds", ".mata")).uid).toBe(srv.uid);
  });

  test("a plan may only give .mata to the server itself", async () => {
    const r = await ask("aclWalk", { dataset: ds, plan: { ...plan, sidecarUid: 0 }, since: -1 });
    expect(r.ok ? "" : r.error).toMatch(/\.mata must belong to the server/);
  });

  test("passwords are set only for people's accounts, never root's or a daemon's", async () => {
    const rootLine = () =>
      readFileSync("/etc/shadow", "utf8")
        .split("\n")
        .find((l) => l.startsWith("root:"));
    const before = rootLine();
    for (const user of ["root", "daemon", "nobody", "--help", "no_such_account_x"]) {
      const r = await ask("setPassword", { user, password: "a long enough password" });
      expect(r.ok, user).toBe(false);
    }
    expect(rootLine()).toBe(before);
  });

  test("a command runs from the helper's configuration, never the request's", async () => {
    const r = await ask("command", {
      dataset: ds,
      datasetId: 1,
      rule: 0,
      command: ["sh", "-c", "echo injected > ran.txt"],
      timeoutSeconds: 10,
      files: ["a.txt"],
    });
    expect(r.ok).toBe(true);
    expect(readFileSync(path.join(root, "ds", "ran.txt"), "utf8").trim()).toBe("configured");
    for (const bad of [{ rule: 1 }, { rule: -1 }, { files: ["../outside/secret.txt"] }, { files: ["/etc/shadow"] }]) {
      const refused = await ask("command", { dataset: ds, datasetId: 1, rule: 0, command: [], timeoutSeconds: 1, files: ["a.txt"], ...bad });
      expect(refused.ok, JSON.stringify(bad)).toBe(false);
    }
  });

  test("an export takes only a name the export job makes and the volume's own files; nothing is written for a refusal", async () => {
    const ok = { dataset: ds, file: "a.txt", files: ["a.txt"], name: "a.ome.zarr", job: 1 };
    for (const bad of [
      { name: "../a.ome.zarr" },
      { name: ".mata.ome.zarr" },
      { name: "a/b.ome.zarr" },
      { name: "a.zarr" },
      { file: "../outside/secret.txt", files: ["../outside/secret.txt"] },
      { file: "b.txt" },
      { job: 0 },
      { dataset: { path: "swapped", uid: ds.uid } },
    ]) {
      const r = await ask("export", { ...ok, ...bad });
      expect(r.ok, JSON.stringify(bad)).toBe(false);
    }
    expect(existsSync(path.join(root, "ds", "derived"))).toBe(false);
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
  });

  test("an unknown operation or a malformed request gets an error, not an action", async () => {
    expect((await ask("chown", { path: "/etc/shadow" })).ok).toBe(false);
    expect((await ask("__proto__", {})).ok).toBe(false);
    expect((await ask("aclPaths", { dataset: ds, plan, paths: "a.txt" })).ok).toBe(false);
  });
});

describe("a separated server", () => {
  const tmp = tempDir("mata-privsep-");
  const root = path.join(tmp.dir, "root");
  const state = path.join(tmp.dir, "state");
  const srv = serviceAccount();
  const admins = createUnixGroup("adm");
  let owner: UnixUser;
  let viewer: UnixUser;
  let server: SeparatedServer;
  let proc: SeparatedServer["proc"];
  let url = "";
  const basic = (u: UnixUser, pw = u.password) => `Basic ${btoa(`${u.name}:${pw}`)}`;

  beforeAll(async () => {
    owner = createUnixUser("own", { groups: [admins.name] });
    viewer = createUnixUser("view");
    const pam = writePamService(tmp.dir);
    mkdirSync(path.join(root, "scan"), { recursive: true });
    writeFileSync(path.join(root, "scan", "notes.csv"), "1,2\n");
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .png()
      .toFile(path.join(root, "scan", "slice.png"));
    chownSync(path.join(root, "scan"), uidOf(owner.name), 100);
    for (const f of ["notes.csv", "slice.png"]) chownSync(path.join(root, "scan", f), uidOf(owner.name), 100);
    server = await startSeparatedServer(tmp.dir, [
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      `auth = "pam"`,
      `user = "${srv.name}"`,
      `pam_service = "${pam.service}"`,
      `pam_confdir = ${JSON.stringify(pam.confdir)}`,
      `admin_group = "${admins.name}"`,
      `debounce_ms = 100`,
      `stable_ms = 200`,
      `[[rules]]`,
      `action = "preview"`,
      `[[rules]]`,
      `glob = "*.csv"`,
      `command = ["sh", "-c", "id -un > ran-as.txt"]`,
    ]);
    proc = server.proc;
    url = server.url;
  });

  afterAll(async () => {
    server?.kill();
    owner?.remove();
    viewer?.remove();
    admins.remove();
    srv.remove();
    tmp.cleanup();
  });

  async function datasetId(): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${url}/api/v1/datasets`, { headers: { Authorization: basic(owner) } });
      const items = ((await r.json()) as { items: { id: number; path: string }[] }).items;
      const d = items.find((x) => x.path === "scan");
      if (d) return d.id;
      await Bun.sleep(100);
    }
    throw new Error("dataset never listed");
  }

  test("the web server runs as the service account with only CAP_DAC_READ_SEARCH and no new privileges; the helper stays root", () => {
    expect(procStatus(proc.pid).uid).toBe(0);
    const [server] = childrenOf(proc.pid);
    const st = procStatus(server!);
    expect(st.uid).toBe(srv.uid);
    expect(st.capEff).toBe(CAP_DAC_READ_SEARCH);
    expect(st.capBnd).toBe(CAP_DAC_READ_SEARCH);
    expect(st.noNewPrivs).toBe(true);
    // The state dir and database belong to the server, 0700 and 0600.
    expect(statSync(state).uid).toBe(srv.uid);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(state, "mata.db")).mode & 0o777).toBe(0o600);
  });

  test("sign-in goes through the helper's PAM: the right password passes, a wrong one does not", async () => {
    expect((await fetch(`${url}/api/v1/datasets`, { headers: { Authorization: basic(owner) } })).status).toBe(200);
    expect((await fetch(`${url}/api/v1/datasets`, { headers: { Authorization: basic(owner, "wrong password!") } })).status).toBe(401);
  });

  test("grants become ACLs written by the helper; .mata belongs to the server; the rule ran as the owner; the preview was built", async () => {
    const id = await datasetId();
    const put = await fetch(`${url}/api/v1/datasets/${id}/access`, {
      method: "PUT",
      headers: { Authorization: basic(owner), "Content-Type": "application/json" },
      body: JSON.stringify({ viewers: [viewer.name] }),
    });
    expect(put.status).toBe(200);
    const acl = () => Bun.spawnSync(["getfacl", "-cp", path.join(root, "scan", "notes.csv")], { stdout: "pipe" }).stdout.toString();
    for (let i = 0; i < 100 && !acl().includes(`user:${viewer.name}:r--`); i++) await Bun.sleep(100);
    expect(acl()).toContain(`user:${viewer.name}:r--`);
    expect(statSync(path.join(root, "scan", ".mata")).uid).toBe(srv.uid);
    expect(statSync(path.join(root, "scan", ".mata", "identity.json")).uid).toBe(srv.uid);
    const ranAs = path.join(root, "scan", "ran-as.txt");
    for (let i = 0; i < 200; i++) {
      try {
        if (readFileSync(ranAs, "utf8").trim()) break;
      } catch {
        // not yet
      }
      await Bun.sleep(100);
    }
    expect(readFileSync(ranAs, "utf8").trim()).toBe(owner.name);
    let state = "";
    for (let i = 0; i < 300 && state !== "ready" && state !== "failed"; i++) {
      const r = await fetch(`${url}/api/v1/datasets/${id}/previews`, { headers: { Authorization: basic(owner) } });
      state = ((await r.json()) as { preview: { state: string } }).preview.state;
      await Bun.sleep(100);
    }
    expect(state).toBe("ready");
  });

  test("a password change goes through the helper, and the new password works", async () => {
    const next = "a brand new passphrase 42";
    const form = new URLSearchParams({ current: viewer.password, password: next, confirm: next });
    const r = await fetch(`${url}/account/password`, {
      method: "POST",
      headers: { Authorization: basic(viewer), "Content-Type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(r.status).toBe(200);
    expect((await fetch(`${url}/api/v1/datasets`, { headers: { Authorization: basic(viewer, next) } })).status).toBe(200);
    viewer.password = next;
  });

  test("SIGTERM to the helper stops both within 10 s", async () => {
    const [server] = childrenOf(proc.pid);
    const t0 = Date.now();
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(10_000)]);
    expect(proc.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    let alive = true;
    try {
      process.kill(server!, 0);
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });
});
