// Tile serving on loopback: requests per second, p50 and p99 of a real `mata serve` process in its default
// configuration (web threads on every core up to 4, each with the tiles' fast path: session, access check, preview
// lookup, the tile's bytes with validators) vs Debian's nginx serving the very same tiles as files (2 workers,
// sendfile), with wrk, random tile URLs, same run. Target: Mata >= 70% of nginx.
//
//   bun bench/tiles-serve.ts [--size 512] [--seconds 10] [--connections 64] [--threads N] [--exe dist/mata]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { chunkNames, locateChunk, ShardIndexCache, type ScaleInfo } from "../src/preview/layout.ts";
import path from "node:path";
import { parseArgs } from "node:util";
import { startJobs } from "../src/jobs/index.ts";
import { previewDir, previewSummary } from "../src/preview/preview.service.ts";
import { previewRepo } from "../src/preview/preview.repo.ts";
import { testContext } from "../test/support/env.ts";
import { withUser } from "../test/support/auth.ts";
import { freePort } from "../test/support/smbd.ts";
import { addDataset, commitChange, waitFor, writeMetaImage } from "../test/jobs/fixture.ts";
import { serveUrl } from "./serve-url.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "512" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    // web_threads of the server; unset: its default.
    threads: { type: "string" },
    exe: { type: "string" },
  },
});
const N = Number(values.size);
const ctx = testContext();
const id = addDataset(ctx, "vol");
writeMetaImage(
  path.join(ctx.config.root, "vol"),
  "vol",
  [N, N, N],
  (x, y, z) => 500 + ((x * 3 + y * 5 + z * 7) % 2000) + (Math.hypot(x - N / 2, y - N / 2, z - N / 2) < N / 3 ? 1500 : 0),
);
const stop = await startJobs(ctx, { settleMs: 0 });
commitChange(ctx, id);
await waitFor("preview", () => previewSummary(ctx, id).state === "ready", 600_000, 200);
await stop();
const dir = previewDir(ctx, previewRepo(ctx.db).get(id, 0)!.content_key);
// nginx serves the same tiles as plain files, cut out of the shards once here.
const tiles: string[] = [];
let tileBytes = 0;
const shards = new ShardIndexCache();
const nginxRoot = path.join(ctx.dir, "nginx-tiles");
for (const scale of (JSON.parse(readFileSync(path.join(dir, "info"), "utf8")) as { scales: ScaleInfo[] }).scales) {
  mkdirSync(path.join(nginxRoot, scale.key), { recursive: true });
  for (const name of chunkNames(scale)) {
    const r = shards.range(dir, locateChunk(scale, name)!)!;
    writeFileSync(path.join(nginxRoot, scale.key, name), readFileSync(r.file).subarray(r.start, r.end));
    tiles.push(`${scale.key}/${name}`);
    tileBytes += r.end - r.start;
  }
}
const list = path.join(ctx.dir, "tiles.txt");
writeFileSync(list, tiles.join("\n") + "\n");
console.log(`${tiles.length} tiles of a ${N}^3 preview, ${(tileBytes / 2 ** 20).toFixed(1)} MiB`);

function lua(prefix: string, headers: Record<string, string>): string {
  const file = path.join(ctx.dir, `wrk-${prefix.length}.lua`);
  const hdr = Object.entries(headers)
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join("\n");
  writeFileSync(
    file,
    `math.randomseed(42)\nlocal paths = {}\nfor line in io.lines(${JSON.stringify(list)}) do paths[#paths + 1] = line end\n${hdr}\nrequest = function()\n  return wrk.format("GET", ${JSON.stringify(prefix)} .. paths[math.random(1, #paths)])\nend\n`,
  );
  return file;
}

async function wrk(url: string, script: string): Promise<{ rps: number; p50: string; p99: string; non2xx: number }> {
  const p = Bun.spawn(["wrk", "-t2", `-c${values.connections}`, `-d${values.seconds}s`, "--latency", "-s", script, url], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50, p99, non2xx };
}

// nginx, Debian's, 2 workers, sendfile, on the same files.
const nginxPort = await freePort();
const prefix = path.join(ctx.dir, "nginx");
mkdirSync(path.join(prefix, "logs"), { recursive: true });
writeFileSync(
  path.join(prefix, "nginx.conf"),
  `daemon off;\nworker_processes 2;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n  client_body_temp_path ${prefix}/tmp;\n  proxy_temp_path ${prefix}/tmp;\n  fastcgi_temp_path ${prefix}/tmp;\n  uwsgi_temp_path ${prefix}/tmp;\n  scgi_temp_path ${prefix}/tmp;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    location /t/ { alias ${nginxRoot}/; default_type image/jpeg; add_header Cache-Control "private, max-age=31536000, immutable"; }\n  }\n}\n`,
);
const nginx = Bun.spawn(["nginx", "-p", prefix, "-c", path.join(prefix, "nginx.conf")], { stdout: "inherit", stderr: "inherit" });
await Bun.sleep(500);

const owner = withUser(ctx, "olga");
// As an admin's reassignment leaves it, so the server's reconcile keeps the owner rather than take the folder's.
ctx.db.query("UPDATE datasets SET owner = 'olga', owner_fixed = 1 WHERE id = ?").run(id);
const serveCmd = values.exe ? [path.resolve(values.exe)] : [process.execPath, path.join(import.meta.dir, "../src/main.ts")];
const server = Bun.spawn([...serveCmd, "serve", "--root", ctx.config.root, "--state", ctx.config.state, "--listen", "127.0.0.1:0"], {
  env: { ...process.env, MATA_LOG: "warn", MATA_ACLS: "false", ...(values.threads ? { MATA_WEB_THREADS: values.threads } : {}) },
  stdin: "ignore",
  stdout: "pipe",
  stderr: "inherit",
});
try {
  const url = await serveUrl(server);
  const health = (await (await fetch(`${url}/api/v1/health`)).json()) as { checks: { server: { webThreads: number } } };
  const probe = await fetch(`${url}/api/v1/datasets/${id}/previews/0/tiles/${tiles[0]}`, { headers: { Cookie: owner.cookie } });
  if (probe.status !== 200) throw new Error(`a tile from mata serve: HTTP ${probe.status} ${await probe.text()}`);
  console.log(`mata serve at ${url}: ${health.checks.server.webThreads} web thread(s); nginx: 2 workers; wrk -t2 -c${values.connections} -d${values.seconds}s`);
  for (let round = 0; round < 2; round++) {
    const n = await wrk(`http://127.0.0.1:${nginxPort}`, lua("/t/", {}));
    const m = await wrk(url, lua(`/api/v1/datasets/${id}/previews/0/tiles/`, { Cookie: owner.cookie }));
    const line = `round ${round + 1}: nginx ${n.rps.toFixed(0)} req/s (p50 ${n.p50}, p99 ${n.p99}) | mata ${m.rps.toFixed(0)} req/s (p50 ${m.p50}, p99 ${m.p99}, non-2xx ${m.non2xx}) -> ${((m.rps / n.rps) * 100).toFixed(0)}% of nginx`;
    console.log(line);
    if (n.non2xx > 0 || m.non2xx > 0) throw new Error(`errors answered: nginx ${n.non2xx}, mata ${m.non2xx}`);
  }
} finally {
  server.kill("SIGTERM");
  await server.exited;
  nginx.kill("SIGTERM");
  await nginx.exited;
  ctx.cleanup();
}
