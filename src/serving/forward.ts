// The two ends of the hand-over between serving threads: a web thread (src/serving/web.worker.ts) answers tiles itself and
// passes every other request, as it came, to the main thread over a unix socket in the state dir, with the client's
// address in one header. Only the main thread's listener on that socket reads the header, so no client can forge it.
import type { Server, SocketAddress } from "bun";
import type { Fetch } from "../preview/tile.fast-path.ts";

/** Carries the client's address (`requestIP` as JSON) from a web thread to the main thread. */
const CLIENT_HEADER = "X-Mata-Forwarded-Client";

/** The main thread's socket for requests handed over by the web threads. */
export function forwardSocket(state: string): string {
  return `${state}/web.sock`;
}

/** Passes a request to the main thread and its answer back, streamed both ways; 503 when the main thread is gone. */
export async function forward(req: Request, server: Server<undefined>, socket: string): Promise<Response> {
  const headers = new Headers(req.headers);
  headers.set(CLIENT_HEADER, JSON.stringify(server.requestIP(req)));
  const url = new URL(req.url);
  try {
    return await fetch(`http://mata${url.pathname}${url.search}`, {
      unix: socket,
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
      decompress: false,
      signal: req.signal,
      timeout: false,
    });
  } catch (e) {
    if (req.signal.aborted) return new Response(null, { status: 499 });
    const message = `The server is stopping or restarting; try again (${(e as Error).message})`;
    return Response.json({ error: { code: "unavailable", message } }, { status: 503, headers: { "Retry-After": "2" } });
  }
}

/** The main thread's handler on the socket: `app` sees the client's address as a direct request shows it. */
export function acceptForwarded(app: Fetch): (req: Request) => Response | Promise<Response> {
  return (req) => {
    let client: SocketAddress | null = null;
    try {
      client = JSON.parse(req.headers.get(CLIENT_HEADER) ?? "null") as SocketAddress | null;
    } catch {
      client = null;
    }
    const headers = new Headers(req.headers);
    headers.delete(CLIENT_HEADER);
    // What hono/bun's getConnInfo asks of the server (src/web/request-info.ts).
    return app(new Request(req, { headers }), { requestIP: () => client } as unknown as Server<undefined>);
  };
}
