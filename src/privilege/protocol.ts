// The messages between the unprivileged server and its root helper (one IPC channel, JSON values only).
import type { AclPlan } from "../access/acl.service.ts";

/** The operations the helper answers; nothing else is ever carried out for the server. */
export type HelperOp = "aclWalk" | "aclPaths" | "prepareSidecar" | "setPassword" | "pam" | "command" | "export" | "cancel";

/** One request from the server; `id` pairs it with its reply (and names it for `cancel`). */
export interface HelperRequest {
  id: number;
  op: HelperOp;
  args: Record<string, unknown>;
}

/** The helper's answer: a value, or an error message with the HTTP status it should become (400 for bad input). */
export type HelperReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; status: number };

/** Progress of a long request (an export) before its reply: a fraction from 0 to 1. */
export interface HelperProgress {
  id: number;
  progress: number;
}

/** Anything the helper sends: progress of a request, or its reply. */
export type HelperMessage = HelperReply | HelperProgress;

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
