// The unprivileged server's side of the helper channel: each privileged operation becomes one request to the root
// helper that started this process (over the IPC channel it inherited), answered by its id.
import type { AclWalkResult } from "../access/acl.service.ts";
import type { PamAnswer } from "../auth/pam.backend.ts";
import { AppError } from "../errors.ts";
import type { CommandOutcome } from "../jobs/command.run.ts";
import type { Privileged } from "./privileged.ts";
import { planToWire, type HelperOp, type HelperReply, type HelperRequest } from "./protocol.ts";

const KNOWN = new Set([400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503, 507]);

/** The channel to the helper: Node-style IPC of a child process. */
export interface HelperChannel {
  send(msg: HelperRequest): void;
  onMessage(listener: (msg: unknown) => void): void;
  onClose(listener: () => void): void;
}

/** The IPC channel this process was started with (process.send), or undefined when it has none. */
export function parentChannel(): HelperChannel | undefined {
  if (typeof process.send !== "function") return undefined;
  return {
    send: (msg) => process.send!(msg),
    onMessage: (l) => process.on("message", l),
    onClose: (l) => process.on("disconnect", l),
  };
}

/** The server's Privileged: every operation asked of the helper; its errors come back with their HTTP status. */
export function helperClient(channel: HelperChannel, serverUid: number): Privileged {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let closed = false;
  channel.onMessage((msg) => {
    const r = msg as HelperReply;
    const p = typeof r?.id === "number" ? pending.get(r.id) : undefined;
    if (!p) return;
    pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(new AppError(KNOWN.has(r.status) ? (r.status as AppError["status"]) : 500, r.error));
  });
  channel.onClose(() => {
    closed = true;
    for (const p of pending.values()) p.reject(new Error("the privileged helper is gone"));
    pending.clear();
  });
  const ask = <T>(op: HelperOp, args: Record<string, unknown>, onId?: (id: number) => void): Promise<T> => {
    if (closed) return Promise.reject(new Error("the privileged helper is gone"));
    const id = nextId++;
    onId?.(id);
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      channel.send({ id, op, args });
    });
  };
  return {
    separated: true,
    canWriteAcls: true,
    serverUid,
    aclWalk: (dataset, plan, since) => ask<AclWalkResult>("aclWalk", { dataset, plan: planToWire(plan), since }),
    aclPaths: (dataset, plan, paths) => ask<number>("aclPaths", { dataset, plan: planToWire(plan), paths }),
    prepareSidecar: (dataset) => ask<void>("prepareSidecar", { dataset }),
    // The helper sets passwords with its own Samba configuration.
    setPassword: (user, password) => ask<void>("setPassword", { user, password }),
    pamChecker: () => ({
      // The helper checks with its own PAM service and confdir, whatever this side was configured with.
      check: (req) => ask<PamAnswer>("pam", { user: req.user, password: req.password, ...(req.rhost ? { rhost: req.rhost } : {}) }),
      close: () => {},
    }),
    runCommand: (req, signal) => {
      let id = 0;
      const cancel = () => {
        if (id) ask("cancel", { ref: id }).catch(() => {});
      };
      signal.addEventListener("abort", cancel, { once: true });
      return ask<CommandOutcome>("command", { ...req }, (i) => (id = i)).finally(() => signal.removeEventListener("abort", cancel));
    },
  };
}
