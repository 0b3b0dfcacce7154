// The server side of bench/auth-pam.ts: the real app with the PAM backend on a loopback port, in its own process.
// Env: BENCH_STATE (dir), BENCH_PAM_CONFDIR, BENCH_PAM_SERVICE, BENCH_BLOCKING=1 to run PAM on the request thread (the reference).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createApp } from "../src/app.ts";
import { configureAuth } from "../src/auth/auth.runtime.ts";
import { pamCheck } from "../src/auth/pam.ts";
import { loadConfig } from "../src/config.ts";
import { createContext } from "../src/services.ts";

const state = process.env.BENCH_STATE!;
const root = path.join(state, "root");
mkdirSync(root, { recursive: true });
const config = { ...loadConfig({ root, state: path.join(state, "state"), listen: "127.0.0.1:0", auth: "pam" }, {}), acls: false };
const ctx = createContext(config);
const service = process.env.BENCH_PAM_SERVICE!;
const confdir = process.env.BENCH_PAM_CONFDIR!;
configureAuth(ctx, { pamService: service, pamConfdir: confdir, pamWorkers: 2 });
const app = createApp(ctx);
const blocking = process.env.BENCH_BLOCKING === "1";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req, srv) {
    if (blocking && req.method === "POST" && new URL(req.url).pathname === "/login") {
      // Reference: the same PAM conversation, but on the thread that serves every other request.
      const form = await req.formData();
      const r = pamCheck(service, String(form.get("name")), String(form.get("password")), undefined, confdir);
      return new Response(null, { status: r.ok ? 303 : 401 });
    }
    return app.fetch(req, srv);
  },
});
console.log(`READY http://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
