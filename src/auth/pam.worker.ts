// A worker thread that runs PAM conversations, so hash checks (17-200 ms of CPU) never block requests.
import { pamCheck } from "./pam.ts";

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

self.onmessage = (e: MessageEvent<PamRequest>) => {
  const { id, service, user, password, rhost, confdir } = e.data;
  try {
    postMessage({ id, outcome: pamCheck(service, user, password, rhost, confdir) });
  } catch (err) {
    postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
