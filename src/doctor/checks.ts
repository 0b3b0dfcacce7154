// The individual installation checks behind `mata doctor`; each returns a verdict and never throws.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { Database } from "bun:sqlite";
import { openDatabase } from "../db/database.ts";
import { probeSharpInWorker } from "./sharp.probe.ts";
import { serverAccount } from "../privilege/account.ts";

/** ok: works; warn: an optional part is missing (some features off); fail: mata cannot run properly. */
export type CheckStatus = "ok" | "warn" | "fail";

/** One line of the doctor's report, the same in text and JSON. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  data?: Record<string, unknown>;
}

/** Removes the doctor's probe files; a path that could never be created (a file in the way) is no error. */
function removeQuietly(...files: string[]): void {
  for (const f of files) {
    try {
      rmSync(f, { force: true });
    } catch {
      // Nothing was written there.
    }
  }
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** sharp makes, resizes and encodes a real image inside a worker thread, as the preview jobs do. */
export async function checkSharp(timeoutMs?: number): Promise<CheckResult> {
  try {
    const r = await probeSharpInWorker(timeoutMs);
    const where = r.nativeDir ? `native files in ${r.nativeDir}` : "native files from node_modules";
    return {
      name: "sharp",
      status: "ok",
      detail: `libvips ${r.vips} in a worker: ${r.width}x${r.height} JPEG ${r.jpegBytes} B, PNG ${r.pngBytes} B in ${r.ms} ms; ${where}`,
      data: { ...r },
    };
  } catch (e) {
    return { name: "sharp", status: "fail", detail: `image library unusable: ${errText(e)}` };
  }
}

/** The state dir takes an atomic write (temp, fsync, rename), which every sidecar and preview relies on. */
export function checkStateDir(state: string): CheckResult {
  const probe = path.join(state, `.doctor-${process.pid}`);
  try {
    mkdirSync(state, { recursive: true });
    const fd = openSync(`${probe}.tmp`, "w", 0o600);
    try {
      writeSync(fd, "mata doctor\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${probe}.tmp`, probe);
    return { name: "state", status: "ok", detail: `${state} is writable`, data: { path: state } };
  } catch (e) {
    return { name: "state", status: "fail", detail: `${state} is not writable: ${errText(e)}`, data: { path: state } };
  } finally {
    removeQuietly(`${probe}.tmp`, probe);
  }
}

/** SQLite opens in WAL mode in the state dir (WAL needs shared memory, which some network file systems lack). */
export function checkSqlite(state: string): CheckResult {
  const file = path.join(state, `.doctor-${process.pid}.db`);
  const data: Record<string, unknown> = { sqlite: "" };
  try {
    const db = openDatabase(file, { migrate: false });
    try {
      const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode;
      db.exec("CREATE TABLE probe (v TEXT)");
      db.query("INSERT INTO probe (v) VALUES (?)").run("ok");
      const back = db.query<{ v: string }, []>("SELECT v FROM probe").get()?.v;
      data.sqlite = db.query<{ v: string }, []>("SELECT sqlite_version() AS v").get()?.v;
      if (mode !== "wal") return { name: "sqlite", status: "fail", detail: `journal mode is ${mode}, not wal, in ${state}`, data };
      if (back !== "ok") return { name: "sqlite", status: "fail", detail: "a written row did not read back", data };
    } finally {
      db.close();
    }
    const main = path.join(state, "mata.db");
    if (existsSync(main)) {
      const db = new Database(main, { readonly: true });
      try {
        data.database = main;
        data.databaseJournalMode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode;
        data.migrations = db.query<{ n: number }, []>("SELECT count(*) AS n FROM schema_migrations").get()?.n ?? 0;
      } finally {
        db.close();
      }
    }
    const dbNote = data.database ? `; ${main}: ${data.databaseJournalMode}, ${data.migrations} migrations applied` : "; no mata.db yet";
    return { name: "sqlite", status: "ok", detail: `SQLite ${data.sqlite} opens in WAL mode in ${state}${dbNote}`, data };
  } catch (e) {
    return { name: "sqlite", status: "fail", detail: `SQLite in ${state}: ${errText(e)}`, data };
  } finally {
    removeQuietly(file, `${file}-wal`, `${file}-shm`);
  }
}

/** The root exists and can be listed, since every dataset is a folder below it. */
export function checkRoot(root: string): CheckResult {
  try {
    if (!statSync(root).isDirectory()) return { name: "root", status: "fail", detail: `${root} is not a folder`, data: { path: root } };
    accessSync(root, constants.R_OK | constants.X_OK);
    const entries = readdirSync(root).filter((n) => !n.startsWith(".")).length;
    return { name: "root", status: "ok", detail: `${root} is readable (${entries} entries)`, data: { path: root, entries } };
  } catch (e) {
    return { name: "root", status: "fail", detail: `${root} cannot be read: ${errText(e)}`, data: { path: root } };
  }
}

const SYSTEM_PATH = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Finds a program the appliance runs, on PATH or in the sbin folders services use. */
export function findProgram(name: string): string | undefined {
  return Bun.which(name, { PATH: SYSTEM_PATH }) ?? undefined;
}

/** setfacl writes web grants to the share; without it permissions are enforced on the web only. */
export function checkSetfacl(aclsWanted: boolean): CheckResult {
  const p = findProgram("setfacl");
  if (p) return { name: "setfacl", status: "ok", detail: `${p}`, data: { path: p } };
  return {
    name: "setfacl",
    status: aclsWanted ? "fail" : "warn",
    detail: `setfacl not found: grants cannot be written as POSIX ACLs (apt-get install acl${aclsWanted ? ", or set acls = false" : ""})`,
  };
}

/** smbd is the share itself; mata can run without it (e.g. on a test box) but users then have no share. */
export function checkSmbd(): CheckResult {
  const p = findProgram("smbd");
  if (!p) return { name: "smbd", status: "warn", detail: "smbd not found: no SMB share on this host (apt-get install samba)" };
  const r = Bun.spawnSync([p, "--version"], { stdout: "pipe", stderr: "pipe", timeout: 5000 });
  const version = r.stdout.toString().trim() || r.stderr.toString().trim();
  return { name: "smbd", status: "ok", detail: `${p} (${version || "version unknown"})`, data: { path: p, version } };
}

/** libpam is needed for `--auth pam` (unix accounts); local accounts work without it. */
export async function checkPam(pamWanted: boolean): Promise<CheckResult> {
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const lib = dlopen("libpam.so.0", { pam_start: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    lib.close();
    const service = ["/etc/pam.d/mata", "/etc/pam.d/other"].find((f) => existsSync(f));
    return { name: "pam", status: "ok", detail: `libpam.so.0 loads${service ? `; PAM service file ${service}` : ""}`, data: { service } };
  } catch (e) {
    return { name: "pam", status: pamWanted ? "fail" : "warn", detail: `libpam.so.0 cannot be loaded: ${errText(e)} (apt-get install libpam0g)` };
  }
}

/** The watcher needs one inotify watch per folder; below the limit new folders go unseen until the next full reconcile. */
export function checkInotify(procDir = "/proc/sys/fs/inotify"): CheckResult {
  try {
    const watches = Number(readFileSync(path.join(procDir, "max_user_watches"), "utf8").trim());
    const instances = Number(readFileSync(path.join(procDir, "max_user_instances"), "utf8").trim());
    const data = { maxUserWatches: watches, maxUserInstances: instances };
    if (watches < 65536) {
      return {
        name: "inotify",
        status: "warn",
        detail: `max_user_watches is ${watches}: trees with more folders are only seen by the periodic reconcile (sysctl fs.inotify.max_user_watches=524288)`,
        data,
      };
    }
    return { name: "inotify", status: "ok", detail: `${watches} watches (one per folder), ${instances} instances`, data };
  } catch (e) {
    return {
      name: "inotify",
      status: "warn",
      detail: `inotify limits unreadable: ${errText(e)}; without inotify, changes are seen only by the periodic reconcile`,
    };
  }
}

/**
 * Privilege separation: with `user` the server runs as that account (it must exist, not be root, and `setpriv` must
 * be there to drop to it); as root without it, everything, parsers included, runs as root.
 */
export function checkPrivilege(user: string | undefined, uid = process.getuid?.() ?? 0): CheckResult {
  if (!user) {
    return uid === 0
      ? { name: "privilege", status: "warn", detail: 'runs as root in one process: set user = "mata" so only a small helper keeps root', data: { uid } }
      : { name: "privilege", status: "ok", detail: `runs as uid ${uid} (no ACLs or passwords are written)`, data: { uid } };
  }
  try {
    const account = serverAccount(user);
    if (!findProgram("setpriv"))
      return { name: "privilege", status: "fail", detail: "setpriv not found (apt-get install util-linux): the server cannot drop to its account" };
    return {
      name: "privilege",
      status: "ok",
      detail: `the server runs as ${account.name} (uid ${account.uid}), root stays in the helper`,
      data: { user: account.name, uid: account.uid },
    };
  } catch (e) {
    return { name: "privilege", status: "fail", detail: (e as Error).message, data: { user } };
  }
}
