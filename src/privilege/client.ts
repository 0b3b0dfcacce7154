// The unprivileged server's side of the helper channel: each privileged operation becomes one request to the root
// helper that started this process (over the IPC channel it inherited), answered by its id.
import type { AclWalkResult } from "../access/acl.service.ts";
import type { PamAnswer } from "../auth/pam.backend.ts";
import { AppError } from "../errors.ts";
import type { CommandOutcome } from "../jobs/command.run.ts";
import type { ExportDone } from "../export/export.process.ts";
import type { Privileged } from "./privileged.ts";
import { planToWire, type HelperMessage, type HelperOp, type HelperRequest } from "./protocol.ts";

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
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (f: number) => void }>();
  let closed = false;
  channel.onMessage((msg) => {
    const r = msg as HelperMessage;
    const p = typeof r?.id === "number" ? pending.get(r.id) : undefined;
    if (!p) return;
    if ("progress" in r) {
      if (typeof r.progress === "number") p.progress?.(r.progress);
      return;
    }
    pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(new AppError(KNOWN.has(r.status) ? (r.status as AppError["status"]) : 500, r.error));
  });
  channel.onClose(() => {
    closed = true;
    for (const p of pending.values()) p.reject(new Error("the privileged helper is gone"));
    pending.clear();
  });
  const ask = <T>(op: HelperOp, args: Record<string, unknown>, onId?: (id: number) => void, progress?: (f: number) => void): Promise<T> => {
    if (closed) return Promise.reject(new Error("the privileged helper is gone"));
    const id = nextId++;
    onId?.(id);
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      channel.send({ id, op, args });
    });
  };
  /** A request the helper stops (op "cancel") when `signal` aborts. */
  const cancellable = <T>(signal: AbortSignal, start: (onId: (id: number) => void) => Promise<T>): Promise<T> => {
    let id = 0;
    const cancel = () => {
      if (id) ask("cancel", { ref: id }).catch(() => {});
    };
    signal.addEventListener("abort", cancel, { once: true });
    return start((i) => (id = i)).finally(() => signal.removeEventListener("abort", cancel));
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
    runCommand: (req, signal) => cancellable(signal, (onId) => ask<CommandOutcome>("command", { ...req }, onId)),
    runExport: (req, signal, onProgress) => {
      signal.throwIfAborted();
      return cancellable(signal, (onId) => ask<ExportDone>("export", { ...req }, onId, onProgress)).then((done) => {
        // A cancel that came as the export finished still counts as a cancel, as it does in one process.
        signal.throwIfAborted();
        return done;
      });
    },
  };
}
