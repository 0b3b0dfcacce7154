// The root helper of a privilege-separated `serve`: it answers the server's requests for the few things that need
// root, and checks each one again on its own side, from its own configuration, trusting nothing the server says:
// paths are dataset folders beneath the root reached without a symlink, the folder still carries the dataset's
// identity, commands are the configured ones, passwords are set only for ordinary accounts.
import { closeSync, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, constants } from "node:fs";
import { isIP } from "node:net";
import type { Config } from "../config.ts";
import type { AclPlan } from "../access/acl.service.ts";
import { R, W, X } from "../access/acl.codec.ts";
import { UNIX_NAME } from "../access/unix.ts";
import { PamPool, type PamChecker } from "../auth/pam.backend.ts";
import { AppError } from "../errors.ts";
import { PLUGIN_INPUT_CAP, PLUGIN_STDOUT_CAP, type CommandRequest } from "../jobs/command.run.ts";
import { log } from "../log.ts";
import { openBeneath } from "../platform/beneath.ts";
import { nameToBytes } from "../sync/names.ts";
import { readIdentity } from "../sync/sidecar.ts";
import type { DatasetTarget, Privileged } from "./privileged.ts";
import type { HelperMessage, HelperRequest, PlanWire } from "./protocol.ts";

/** Ordinary people's accounts start here; the helper never sets a password below it (root, daemons). */
const FIRST_PERSON_UID = 1000;
const NOBODY = 65534;
const MAX_PATHS = 100_000;
const MAX_TEXT = 4096;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
/** What exportName makes: a safe stem and `.ome.zarr`. */
const EXPORT_NAME = /^[A-Za-z0-9-][A-Za-z0-9._-]*\.ome\.zarr$/;

/** A request the helper refuses: bad or unexpected input from the server. */
class Refused extends AppError {
  constructor(message: string) {
    super(400, message);
  }
}

const refuse = (msg: string): never => {
  throw new Refused(msg);
};

function text(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max || v.includes("\0")) refuse(`${what} must be a non-empty string without NUL`);
  return v as string;
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) refuse(`${what} must be a whole number from ${min} to ${max}`);
  return v as number;
}

/** A path relative to a dataset folder: no absolute path, no `.`/`..` or empty part. */
function relPath(v: unknown, what: string): string {
  const p = text(v, what);
  if (p.startsWith("/") || p.split("/").some((s) => s === "" || s === "." || s === "..")) refuse(`${what} ${JSON.stringify(p)} is not a relative path`);
  return p;
}

export interface HelperOptions {
  config: Config;
  /** The server's uid: the owner of `.mata/` folders, and the only sidecar owner a plan may ask for. */
  serverUid: number;
  /** The operations themselves, as root (localPrivileged). */
  local: Privileged;
}

/**
 * Turns the server's requests into replies. Requests run concurrently (an ACL walk never holds up a sign-in);
 * `cancel` stops a running command.
 */
export function helperHandler(opts: HelperOptions, reply: (r: HelperMessage) => void): { handle(msg: unknown): void; close(): void } {
  const { config, serverUid, local } = opts;
  let pam: PamChecker | null = null;
  const running = new Map<number, AbortController>();

  /** A dataset folder at the dataset depth, opened beneath the root without a symlink, still holding its identity. */
  const dataset = (v: unknown): DatasetTarget => {
    const t = v as DatasetTarget;
    const p = relPath(t?.path, "dataset path");
    const uid = text(t?.uid, "dataset uid", 64);
    const parts = p.split("/");
    if (parts.length !== config.depth || parts.some((s) => s.startsWith("."))) refuse(`${JSON.stringify(p)} is not a dataset folder (depth ${config.depth})`);
    let fd: number;
    try {
      fd = openBeneath(config.root, nameToBytes(p));
    } catch (e) {
      return refuse(`dataset folder ${JSON.stringify(p)} cannot be opened beneath the root: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      if (!fstatSync(fd).isDirectory()) refuse(`${JSON.stringify(p)} is not a folder`);
      const identity = readIdentity(`/proc/self/fd/${fd}`);
      if (identity && identity.uid !== uid) refuse(`the folder ${JSON.stringify(p)} now holds dataset ${identity.uid}, not ${uid}`);
    } finally {
      closeSync(fd);
    }
    return { path: p, uid };
  };

  const plan = (v: unknown): AclPlan => {
    const w = v as PlanWire;
    if (typeof w !== "object" || w === null) refuse("plan missing");
    const ids = (list: unknown, what: string) => {
      if (!Array.isArray(list) || list.length > 10_000) refuse(`${what} must be a list`);
      return new Map(
        (list as unknown[]).map((e) => {
          const [id, perm] = Array.isArray(e) ? e : [];
          return [int(id, `${what} id`, 0, 0xfffffffe), int(perm, `${what} permission`, 0, R | W | X)] as [number, number];
        }),
      );
    };
    if (w.sidecarUid !== serverUid) refuse(`.mata must belong to the server (uid ${serverUid}), not uid ${String(w.sidecarUid)}`);
    return {
      ownerUid: w.ownerUid === null ? null : int(w.ownerUid, "owner uid", 0, 0xfffffffe),
      users: ids(w.users, "user"),
      groups: ids(w.groups, "group"),
      unresolved: [],
      sidecarUid: serverUid,
      hash: text(w.hash, "plan hash", 128),
    };
  };

  const ops: Record<HelperRequest["op"], (a: Record<string, unknown>, id: number) => Promise<unknown>> = {
    aclWalk: (a) =>
      local.aclWalk(dataset(a.dataset), plan(a.plan), typeof a.since === "number" && Number.isFinite(a.since) ? a.since : refuse("since must be a number")),
    aclPaths: (a) => {
      const paths = Array.isArray(a.paths) && a.paths.length <= MAX_PATHS ? a.paths.map((p) => relPath(p, "path")) : refuse("paths must be a list");
      return local.aclPaths(dataset(a.dataset), plan(a.plan), paths);
    },
    prepareSidecar: async (a) => makeSidecar(config.root, dataset(a.dataset), serverUid),
    setPassword: async (a) => {
      const user = text(a.user, "user", 32);
      if (!UNIX_NAME.test(user)) refuse(`"${user}" is not a unix user name`);
      const uid = await accountUid(user);
      if (uid === null) refuse(`no unix account "${user}"`);
      if (uid! < FIRST_PERSON_UID || uid === NOBODY)
        refuse(`the password of "${user}" (uid ${uid}) is not Mata's to set: only people's accounts (uid ${FIRST_PERSON_UID} and up)`);
      return local.setPassword(user, text(a.password, "password"));
    },
    pam: (a) => {
      const rhost = a.rhost === undefined ? undefined : text(a.rhost, "rhost", 64);
      if (rhost !== undefined && !isIP(rhost)) refuse("rhost must be an IP address");
      pam ??= local.pamChecker(2);
      return pam.check({
        service: config.pamService,
        confdir: config.pamConfdir,
        user: text(a.user, "user", 256),
        password: text(a.password, "password"),
        rhost,
      });
    },
    command: async (a, id) => {
      const req = a as unknown as CommandRequest;
      const rule = config.rules[int(req.rule, "rule", 0, config.rules.length - 1)]!;
      if (!rule.command && !rule.plugin) refuse(`rule ${req.rule} has no command`);
      const files = Array.isArray(req.files) && req.files.length <= MAX_PATHS ? req.files.map((f) => relPath(f, "file")) : refuse("files must be a list");
      const target = dataset(req.dataset);
      const controller = new AbortController();
      running.set(id, controller);
      try {
        // The helper's own configuration says what runs and for how long, never the request.
        return await local.runCommand(
          {
            dataset: target,
            datasetId: int(req.datasetId, "dataset id", 1, Number.MAX_SAFE_INTEGER),
            rule: req.rule,
            command: (rule.command ?? rule.plugin)!,
            timeoutSeconds: rule.timeoutSeconds,
            files,
            // A plug-in's request is its dataset's description; its answer is read back, capped.
            ...(rule.plugin && typeof req.input === "string" && req.input.length <= PLUGIN_INPUT_CAP ? { input: req.input, stdoutCap: PLUGIN_STDOUT_CAP } : {}),
          },
          controller.signal,
        );
      } finally {
        running.delete(id);
      }
    },
    export: async (a, id) => {
      const target = dataset(a.dataset);
      const files = Array.isArray(a.files) && a.files.length <= MAX_PATHS ? a.files.map((f) => relPath(f, "file")) : refuse("files must be a list");
      const file = relPath(a.file, "file");
      if (!files.includes(file)) refuse("the volume's file must be one of its files");
      // Only a name the export job makes (exportName): one plain folder name in derived/, never hidden.
      const name = text(a.name, "name", 200);
      if (!EXPORT_NAME.test(name)) refuse(`${JSON.stringify(name)} is not an export name`);
      const slabBudget = a.slabBudget === undefined ? undefined : int(a.slabBudget, "slab budget", 1, 1 << 30);
      const controller = new AbortController();
      running.set(id, controller);
      let sent = -1;
      try {
        return await local.runExport(
          { dataset: target, file, files, name, job: int(a.job, "job", 1, Number.MAX_SAFE_INTEGER), ...(slabBudget !== undefined ? { slabBudget } : {}) },
          controller.signal,
          (f) => {
            if (f - sent < 0.01 && f < 1) return;
            sent = f;
            reply({ id, progress: f });
          },
        );
      } finally {
        running.delete(id);
      }
    },
    cancel: async (a) => {
      running.get(int(a.ref, "ref", 1, Number.MAX_SAFE_INTEGER))?.abort();
    },
  };

  return {
    handle(msg) {
      const req = msg as HelperRequest;
      const id = typeof req?.id === "number" ? req.id : -1;
      const op = typeof req?.op === "string" && Object.hasOwn(ops, req.op) ? ops[req.op] : undefined;
      if (id < 1 || !op || typeof req.args !== "object" || req.args === null) {
        log.warn("privileged helper: malformed request refused", { op: String(req?.op) });
        if (id >= 1) reply({ id, ok: false, error: "malformed request", status: 400 });
        return;
      }
      Promise.resolve()
        .then(() => op(req.args, id))
        .then(
          (value) => reply({ id, ok: true, value: value ?? null }),
          (e: unknown) => {
            const status = e instanceof AppError ? e.status : 500;
            if (e instanceof Refused) log.warn("privileged helper refused a request", { op: req.op, reason: (e as Error).message });
            reply({ id, ok: false, error: (e as Error)?.message ?? String(e), status });
          },
        );
    },
    close() {
      for (const c of running.values()) c.abort();
      pam?.close();
    },
  };
}

/** The uid of an account through NSS, or null when there is none. */
async function accountUid(name: string): Promise<number | null> {
  const proc = Bun.spawn(["getent", "passwd", name], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const uid = out.split(":")[2];
  return uid && /^\d+$/.test(uid) ? Number(uid) : null;
}

/**
 * Creates `.mata/` in a dataset folder (reached through a descriptor, so a swapped folder is never followed) and
 * gives it to the server; an existing one that is a real folder is given to it too. A symlink there is refused.
 */
function makeSidecar(root: string, target: DatasetTarget, serverUid: number): void {
  const dirFd = openBeneath(root, nameToBytes(target.path));
  try {
    const inside = `/proc/self/fd/${dirFd}/.mata`;
    let created = false;
    try {
      mkdirSync(inside, { mode: 0o755 });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let fd: number;
    try {
      fd = openSync(inside, constants.O_RDONLY | constants.O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return refuse(`${target.path}/.mata is not a folder${code === "ELOOP" || code === "ENOTDIR" ? " (a symlink or a file)" : `: ${code}`}`);
    }
    try {
      const st = fstatSync(fd);
      if (st.uid !== serverUid) fchownSync(fd, serverUid, st.gid);
      if (created) fchmodSync(fd, 0o755);
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(dirFd);
  }
}
