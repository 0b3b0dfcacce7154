// The messages between the unprivileged server and its root helper (one IPC channel, JSON values only).
import type { AclPlan } from "../access/acl.service.ts";

/** The operations the helper answers; nothing else is ever carried out for the server. */
export type HelperOp = "aclWalk" | "aclPaths" | "prepareSidecar" | "setPassword" | "pam" | "command" | "cancel";

/** One request from the server; `id` pairs it with its reply (and names it for `cancel`). */
export interface HelperRequest {
  id: number;
  op: HelperOp;
  args: Record<string, unknown>;
}

/** The helper's answer: a value, or an error message with the HTTP status it should become (400 for bad input). */
export type HelperReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; status: number };

/** An ACL plan as it crosses the channel (maps as pairs). */
export interface PlanWire {
  ownerUid: number | null;
  users: [number, number][];
  groups: [number, number][];
  unresolved: string[];
  sidecarUid: number;
  hash: string;
}

export function planToWire(p: AclPlan): PlanWire {
  return { ownerUid: p.ownerUid, users: [...p.users], groups: [...p.groups], unresolved: p.unresolved, sidecarUid: p.sidecarUid, hash: p.hash };
}

/** The environment variable that tells a `serve` process it is the unprivileged half of a separated server. */
export const SERVER_CHILD_ENV = "MATA_SERVER_CHILD";
