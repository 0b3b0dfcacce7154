import { isIP } from "node:net";
import type { Principal } from "../context.ts";
import type { AccountBackend, VerifyResult } from "./backend.ts";
import { PAM_CODES, type PamOutcome } from "./pam.ts";
import type { PamRequest } from "./pam.worker.ts";
import { unixGroups } from "./system.ts";

/** Where PAM finds its service file, and who counts as an admin. */
export interface PamOptions {
  /** The PAM service name (the file under the confdir), "mata" in production. */
  service: string;
  /** A folder holding the service file instead of /etc/pam.d (tests bring their own). */
  confdir?: string;
  adminGroup: string;
  /** Samba config whose passdb gets the NT hash on password changes. */
  smbConf?: string;
  /** Where the password checks run: PAM threads here (`new PamPool`), or the root helper of a separated server. */
  checker: PamChecker;
  /** Sets the unix and Samba passwords (root's work: here, or in the helper). */
  setPassword: (user: string, password: string, smbConf?: string) => Promise<void>;
}

/** Runs PAM conversations: a pool of threads here, or the privileged helper's. */
export interface PamChecker {
  check(req: Omit<PamRequest, "id">): Promise<PamAnswer>;
  close(): void;
}

const GROUP_CACHE_MS = 60_000;

/** A PAM outcome and, after a right password, the user's unix groups (read on the worker thread). */
export interface PamAnswer {
  outcome: PamOutcome;
  groups: string[] | null;
}

/** A small pool of workers running PAM, so a slow hash check never holds up other requests. */
export class PamPool implements PamChecker {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: { req: Omit<PamRequest, "id">; resolve: (a: PamAnswer) => void; reject: (e: Error) => void }[] = [];
  private pending = new Map<number, { worker: Worker; resolve: (a: PamAnswer) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL("./pam.worker.ts", import.meta.url));
      // Bun workers can be unref'd: an idle PAM pool never keeps the process alive.
      (w as unknown as { unref(): void }).unref();
      w.onmessage = (e: MessageEvent<{ id: number; outcome?: PamOutcome; groups?: string[] | null; error?: string }>) => {
        const p = this.pending.get(e.data.id);
        if (!p) return;
        this.pending.delete(e.data.id);
        if (e.data.outcome) p.resolve({ outcome: e.data.outcome, groups: e.data.groups ?? null });
        else p.reject(new Error(`PAM worker: ${e.data.error}`));
        this.idle.push(w);
        this.pump();
      };
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  check(req: Omit<PamRequest, "id">): Promise<PamAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      this.pending.set(id, { worker: w, resolve: job.resolve, reject: job.reject });
      w.postMessage({ id, ...job.req } satisfies PamRequest);
    }
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    for (const p of this.pending.values()) p.reject(new Error("PAM pool closed"));
    for (const q of this.queue) q.reject(new Error("PAM pool closed"));
    this.pending.clear();
    this.queue = [];
    this.workers = [];
    this.idle = [];
  }
}

/** System accounts through PAM; groups (for group grants and the admin group) come from NSS. */
export function pamBackend(opts: PamOptions): AccountBackend {
  const pool = opts.checker;
  const groupCache = new Map<string, { at: number; groups: string[] | null }>();
  const groupsOf = (name: string): string[] | null => {
    const hit = groupCache.get(name);
    if (hit && performance.now() - hit.at < GROUP_CACHE_MS) return hit.groups;
    const groups = unixGroups(name);
    groupCache.set(name, { at: performance.now(), groups });
    return groups;
  };
  const principal = (name: string): Principal | null => {
    const groups = groupsOf(name);
    return groups ? { name, isAdmin: groups.includes(opts.adminGroup), groups } : null;
  };
  return {
    kind: "pam",
    async verify(name, password, rhost): Promise<VerifyResult> {
      // Only an IP literal goes to PAM_RHOST: a name there makes modules resolve it (a 5 s DNS stall per sign-in).
      const { outcome, groups } = await pool.check({
        service: opts.service,
        user: name,
        password,
        rhost: rhost && isIP(rhost) ? rhost : undefined,
        confdir: opts.confdir,
      });
      if (outcome.ok) {
        // Groups are read afresh at every sign-in, on the worker thread.
        groupCache.set(name, { at: performance.now(), groups });
        return groups ? { ok: true, principal: { name, isAdmin: groups.includes(opts.adminGroup), groups } } : { ok: false, reason: "bad_credentials" };
      }
      // The account step runs only after the right password, so saying why is no oracle.
      if (outcome.step === "pam_acct_mgmt" && outcome.code === PAM_CODES.acctExpired) return { ok: false, reason: "account_expired" };
      if (outcome.step === "pam_acct_mgmt" && outcome.code === PAM_CODES.newAuthtokReqd) return { ok: false, reason: "password_expired" };
      return { ok: false, reason: "bad_credentials" };
    },
    lookup: principal,
    async changePassword(name, password) {
      await opts.setPassword(name, password, opts.smbConf);
    },
    close: () => pool.close(),
  };
}
