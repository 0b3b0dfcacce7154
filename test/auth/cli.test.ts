// `mata user` as a user runs it: a child process with the password on stdin.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import path from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { verifyPassword } from "../../src/auth/password.ts";
import { pamCheck } from "../../src/auth/pam.ts";
import { tempDir } from "../support/env.ts";
import { createUnixUser, writePamService, writePassdbConf } from "../support/unix-users.ts";

// Real password hashing and real services: slow on a shared 2-core machine.
setDefaultTimeout(60_000);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const BUN = process.execPath;
const MAIN = path.resolve(import.meta.dir, "../../src/main.ts");

async function mata(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([BUN, MAIN, ...args], { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

function dirs() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const where = ["--state", path.join(t.dir, "state")];
  return { ...t, where, db: () => openDatabase(path.join(t.dir, "state", "mata.db")) };
}

describe("mata user (local)", () => {
  test("add with the password on stdin stores an argon2id hash; passwd changes it; list shows admins", async () => {
    const d = dirs();
    expect((await mata(["user", "add", "alice", "--admin", ...d.where], "first-secret-1\n")).code).toBe(0);
    expect((await mata(["user", "add", "bob", ...d.where], "bob-secret-1\n")).code).toBe(0);
    let db = d.db();
    const row = accountsRepo(db).get("alice")!;
    expect(row.password_hash).toStartWith("$argon2id$");
    expect(row.is_admin).toBe(1);
    expect(await verifyPassword("first-secret-1", row.password_hash!)).toBe(true);
    db.close();
    expect((await mata(["user", "passwd", "alice", ...d.where], "second-secret-2\n")).code).toBe(0);
    db = d.db();
    expect(await verifyPassword("second-secret-2", accountsRepo(db).get("alice")!.password_hash!)).toBe(true);
    db.close();
    const list = await mata(["user", "list", "--json", ...d.where]);
    expect(JSON.parse(list.out).map((a: { name: string; admin: boolean }) => [a.name, a.admin])).toEqual([
      ["alice", true],
      ["bob", false],
    ]);
  }, 30_000);

  test("bad input is named: short password, existing account, unknown account, unknown action, bad name", async () => {
    const d = dirs();
    const short = await mata(["user", "add", "carol", ...d.where], "short\n");
    expect(short.code).toBe(1);
    expect(short.err).toContain("at least 8 characters");
    await mata(["user", "add", "carol", ...d.where], "carol-secret-1\n");
    const again = await mata(["user", "add", "carol", ...d.where], "carol-secret-1\n");
    expect(again.code).toBe(1);
    expect(again.err).toContain("account carol exists");
    const missing = await mata(["user", "passwd", "dave", ...d.where], "dave-secret-1\n");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no account dave");
    expect((await mata(["user", "frob", ...d.where])).code).toBe(2);
    expect((await mata(["user", "passwd", "carol", "--admin", ...d.where], "x\n")).code).toBe(2);
    const bad = await mata(["user", "add", "../x", ...d.where], "long-enough-1\n");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("not a valid account name");
  }, 30_000);
});

describe("mata user (pam)", () => {
  test("passwd sets the unix password (checked through PAM) and the Samba NT hash; add is refused", async () => {
    const d = dirs();
    const u = createUnixUser("cli");
    cleanups.push(u.remove);
    const pam = writePamService(d.dir);
    const smbConf = writePassdbConf(path.join(d.dir, "samba"));
    const next = "Cli-new-" + Math.random().toString(36).slice(2);
    const r = await mata(["user", "passwd", u.name, "--auth", "pam", "--smb-conf", smbConf, ...d.where], `${next}\n`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(pamCheck(pam.service, u.name, next, undefined, pam.confdir).ok).toBe(true);
    expect(pamCheck(pam.service, u.name, u.password, undefined, pam.confdir).ok).toBe(false);
    const pdb = Bun.spawnSync(["pdbedit", "-s", smbConf, "-L", "-w", "-u", u.name], { stdout: "pipe" });
    const nt = new Bun.CryptoHasher("md4" as never).update(Buffer.from(next, "utf16le")).digest("hex").toUpperCase();
    expect(pdb.stdout.toString().split(":")[3]).toBe(nt);
    const add = await mata(["user", "add", "someone", "--auth", "pam", ...d.where], "whatever-1\n");
    expect(add.code).toBe(1);
    expect(add.err).toContain("accounts are system users");
  }, 30_000);
});
