// A worker thread that runs PAM conversations, so hash checks (17-200 ms of CPU) never block requests.
import { lowerThreadPriority, pamCheck } from "./pam.ts";
import { unixGroups } from "./system.ts";

declare var self: Worker;

lowerThreadPriority();

/** One request to the worker; `id` pairs it with its answer. */
export interface PamRequest {
  id: number;
  service: string;
  user: string;
  password: string;
  rhost?: string;
  confdir?: string;
}

self.onmessage = (e: MessageEvent<PamRequest>) => {
  const { id, service, user, password, rhost, confdir } = e.data;
  try {
    const outcome = pamCheck(service, user, password, rhost, confdir);
    // The unix groups of a signed-in user are read here too, so the request thread never waits on NSS or `id`.
    postMessage({ id, outcome, groups: outcome.ok ? unixGroups(user) : null });
  } catch (err) {
    postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
