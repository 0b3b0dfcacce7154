// A worker thread that runs PAM conversations, so hash checks (17-200 ms of CPU) never block requests.
import { lowerThreadPriority, pamCheck, PAM_CODES } from "./pam.ts";
import { unixGroups } from "./system.ts";

declare var self: Worker;

/** One request to the worker; `id` pairs it with its answer. */
export interface PamRequest {
  id: number;
  service: string;
  user: string;
  password: string;
  rhost?: string;
  confdir?: string;
}

lowerThreadPriority();

// pam_unix answers an unknown user in under a millisecond but hashes for a known one. To keep names
// from being told apart by timing (also when the queue or the failure floor is exceeded), an unknown
// user holds this worker as long as recent checks of known users took here.
const recent: number[] = [];
const FIRST_GUESS_MS = 100;
function typicalKnownMs(): number {
  if (recent.length === 0) return FIRST_GUESS_MS;
  return [...recent].sort((a, b) => a - b)[Math.floor(recent.length / 2)]!;
}

self.onmessage = (e: MessageEvent<PamRequest>) => {
  const { id, service, user, password, rhost, confdir } = e.data;
  try {
    const t0 = performance.now();
    const outcome = pamCheck(service, user, password, rhost, confdir);
    const took = performance.now() - t0;
    if (outcome.step === "pam_authenticate" && outcome.code === PAM_CODES.userUnknown) {
      Bun.sleepSync(Math.max(0, typicalKnownMs() - took));
    } else if (outcome.step !== "pam_start") {
      recent.push(took);
      if (recent.length > 9) recent.shift();
    }
    // The unix groups of a signed-in user are read here too, so the request thread never waits on NSS or `id`.
    postMessage({ id, outcome, groups: outcome.ok ? unixGroups(user) : null });
  } catch (err) {
    postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
