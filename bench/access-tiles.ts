// Permission-check cost on the hot path: file-content requests (tile-sized files, random URLs) per
// second through the real dataset file route, with the access enforcement point on and off, same
// process, same files, same signed-in viewer, alternating rounds. Target: on >= 90% of off.
//
//   bun bench/access-tiles.ts [--files 2000] [--seconds 8] [--rounds 3]
import { Hono } from "hono";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { AppEnv, Principal } from "../src/context.ts";
import { mountRoutes } from "../src/web/route.ts";
import { requireAccess } from "../src/access/access.middleware.ts";
import { levelOf } from "../src/web/access-levels.ts";
import { datasetsRoutes } from "../src/datasets/datasets.routes.ts";
import { renderError } from "../src/web/errors.ts";
import { testContext } from "../test/support/env.ts";

const { values } = parseArgs({
  options: { files: { type: "string", default: "2000" }, seconds: { type: "string", default: "8" }, rounds: { type: "string", default: "3" } },
});
const FILES = Number(values.files);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);

const ctx = testContext();
const dsDir = path.join(ctx.config.root, "tiles");
const now = Date.now();
const id = Number(
  ctx.db.query("INSERT INTO datasets (uid, path, owner, file_count, created_at, updated_at) VALUES ('bench', 'tiles', 'owner', ?, ?, ?)").run(FILES, now, now)
    .lastInsertRowid,
);
const insert = ctx.db.query("INSERT INTO files (dataset_id, path, size, mtime_ms, inode, created_at) VALUES (?, ?, ?, ?, 0, ?)");
ctx.db.transaction(() => {
  for (let i = 0; i < FILES; i++) {
    const rel = `z${i % 10}/${i}.jpg`;
    mkdirSync(path.join(dsDir, `z${i % 10}`), { recursive: true });
    const size = 8192 + ((i * 7919) % 12288);
    writeFileSync(path.join(dsDir, rel), Buffer.alloc(size, i % 251));
    insert.run(id, rel, size, now, now);
  }
})();
// The viewer holds a user grant among others, and a group grant is present, so the check does its full work.
ctx.db
  .query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, 'user:alice', 'editor'), (?, 'user:viewer', 'viewer'), (?, 'group:lab', 'viewer')")
  .run(id, id, id);
const viewer: Principal = { name: "viewer", isAdmin: false, groups: ["staff", "users"] };

function build(access: boolean): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(renderError);
  app.use("*", async (c, next) => {
    c.set("ctx", ctx);
    c.set("user", viewer); // stands in for authenticate (the same in both variants)
    await next();
  });
  // "Off" declares the same routes open to everyone: the same validation, no access check.
  mountRoutes(
    app,
    access ? datasetsRoutes : datasetsRoutes.map((r) => ({ ...r, access: levelOf(r.access) === "public" ? r.access : ("signed-in" as const) })),
    requireAccess,
  );
  return app;
}

const lua = path.join(ctx.dir, "random.lua");
writeFileSync(
  lua,
  `math.randomseed(42)\nrequest = function()\n  local i = math.random(0, ${FILES - 1})\n  return wrk.format("GET", "/api/v1/datasets/${id}/files/z" .. (i % 10) .. "/" .. i .. ".jpg")\nend\n`,
);

async function measure(access: boolean): Promise<{ rps: number; p99: string }> {
  const app = build(access);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  try {
    const probe = await fetch(`http://127.0.0.1:${server.port}/api/v1/datasets/${id}/files/z0/0.jpg`);
    if (probe.status !== 200) throw new Error(`probe got ${probe.status}`);
    await probe.arrayBuffer();
    const wrk = Bun.spawn(["wrk", "-t2", "-c64", `-d${SECONDS}s`, "--latency", "-s", lua, `http://127.0.0.1:${server.port}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(wrk.stdout).text();
    await wrk.exited;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
    if (non2xx) throw new Error(`${non2xx} failed responses with access ${access ? "on" : "off"}`);
    return { rps, p99: /99%\s+(\S+)/.exec(out)?.[1] ?? "?" };
  } finally {
    server.stop(true);
  }
}

const on: number[] = [];
const off: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await measure(false);
  const b = await measure(true);
  off.push(a.rps);
  on.push(b.rps);
  console.log(`round ${r + 1}: off ${a.rps.toFixed(0)} req/s (p99 ${a.p99}), on ${b.rps.toFixed(0)} req/s (p99 ${b.p99}), ratio ${(b.rps / a.rps).toFixed(3)}`);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ratio = median(on) / median(off);
console.log(
  `median: off ${median(off).toFixed(0)} req/s, on ${median(on).toFixed(0)} req/s, on/off ${(ratio * 100).toFixed(1)}% (target >= 90%) ${ratio >= 0.9 ? "PASS" : "FAIL"}`,
);

// The check alone, in process: what each request pays for it.
const app = build(true);
const bare = build(false);
const url = `http://x/api/v1/datasets/${id}/files/z0/0.jpg`;
const time = async (a: Hono<AppEnv>) => {
  const n = 10000;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) await (await a.request(url)).arrayBuffer();
  return (Bun.nanoseconds() - t0) / n / 1000;
};
// Alternating runs, best of each: the machine is shared, so the minimum is the least disturbed figure.
await time(app);
await time(bare);
const withRuns: number[] = [];
const withoutRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  withoutRuns.push(await time(bare));
  withRuns.push(await time(app));
}
const withCheck = Math.min(...withRuns);
const without = Math.min(...withoutRuns);
console.log(
  `in-process (best of 5): ${without.toFixed(1)} us/request without the check, ${withCheck.toFixed(1)} us with it (+${(withCheck - without).toFixed(2)} us, ${((without / withCheck) * 100).toFixed(1)}% of the rate)`,
);
ctx.cleanup();
