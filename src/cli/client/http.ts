// The HTTP side of the client verbs: one request function that turns every way a call can fail into a
// one-line ClientError a person can act on.

/** A failure of a client verb, printed as one line by `mata` (exit 1); `status` is the HTTP status when there was one. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** How a request signs in: an API token, an account and password (HTTP Basic), or not at all. */
export type Credentials = { token: string } | { user: string; password: string } | null;

/** The network boundary (the global `fetch`), passed in so the client can be driven without a socket. */
export type Send = (url: string, init: RequestInit) => Promise<Response>;

/** A running Mata server as the client verbs see it. */
export interface MataClient {
  readonly url: string;
  /** Sends one JSON request to a path under the server's URL; resolves to the parsed JSON answer. */
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

const TIMEOUT_MS = 60_000;

/** Makes a client for the server at `url` (a trailing slash is ignored, so is a missing `http://`). */
export function mataClient(url: string, credentials: Credentials, send: Send = (u, init) => fetch(u, init)): MataClient {
  const base = normalizeUrl(url);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (credentials && "token" in credentials) headers.Authorization = `Bearer ${credentials.token}`;
  else if (credentials) headers.Authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString("base64")}`;

  return {
    url: base,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "manual" };
      if (body !== undefined) {
        (init.headers as Record<string, string>)["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      let res: Response;
      try {
        res = await send(base + path, init);
      } catch (e) {
        throw new ClientError(`cannot reach Mata at ${base}: ${reachProblem(e)}`);
      }
      return (await answer(res, base, credentials)) as T;
    },
  };
}

/** The server's base URL without a trailing slash; a bare `host:port` gets `http://`. */
export function normalizeUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ClientError(`${JSON.stringify(url)} is not a URL; give one like http://127.0.0.1:8080 (--url or MATA_URL)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ClientError(`${url} is not an http:// or https:// URL`);
  return withScheme.replace(/\/+$/, "");
}

/** Why a request never got an answer, in words, with what to check. */
function reachProblem(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string };
  const code = String(err?.code ?? "");
  if (err?.name === "TimeoutError") return `no answer within ${TIMEOUT_MS / 1000} s`;
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused; is `mata serve` running?";
  if (code === "ENOTFOUND") return "no such host; check --url or MATA_URL";
  if (/CERT|SSL|TLS/i.test(code)) return `its TLS certificate is not trusted (${code}); name the certificate file in NODE_EXTRA_CA_CERTS`;
  return `${err?.message ?? String(e)}; check --url or MATA_URL`;
}

/** Reads an answer: its JSON when it succeeded, else a ClientError worded for the status. */
async function answer(res: Response, base: string, credentials: Credentials): Promise<unknown> {
  if (res.status === 204) return undefined;
  // Redirects are not followed, so a token never travels to another address; the person picks the URL.
  if (res.status >= 300 && res.status < 400) {
    throw new ClientError(
      `${base} redirects elsewhere (HTTP ${res.status} to ${res.headers.get("location") ?? "?"}); give the server's address with --url or MATA_URL`,
      res.status,
    );
  }
  const text = await res.text();
  let body: unknown;
  if ((res.headers.get("content-type") ?? "").includes("json")) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (body === undefined) {
    throw new ClientError(`${base} answered HTTP ${res.status} without JSON: it does not look like a Mata server (check --url or MATA_URL)`, res.status);
  }
  if (res.ok) return body;
  const error = (body as { error?: { message?: unknown; details?: unknown } }).error;
  const message = typeof error?.message === "string" ? error.message : `HTTP ${res.status}`;
  throw new ClientError(explain(res.status, message, credentials), res.status, error?.details);
}

/** The line a person reads for a refused request: the server's message plus what to do about it. */
function explain(status: number, message: string, credentials: Credentials): string {
  if (status === 401) {
    if (credentials === null) return "the server needs a sign-in: give --token or set MATA_TOKEN (make one with `mata token create --user NAME`)";
    if ("token" in credentials) return `the server refused the token (${message}); check --token / MATA_TOKEN, or make a new one with \`mata token create\``;
    return `the server refused the sign-in of ${credentials.user} (${message})`;
  }
  if (status === 403) return `permission denied: ${message}`;
  if (status >= 500) return `the server failed (HTTP ${status}): ${message}`;
  return message;
}
