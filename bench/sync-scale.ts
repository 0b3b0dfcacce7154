// The sync engine at scale, as users run it (the CLI as a process, as root, default configuration):
//   acl     full reconcile of 100,000 unchanged files with ACLs on (`mata scan`) against `find ROOT -printf`, median of 5
//   growth  full reconcile time and peak RSS of `mata scan` at 100,000, 1,000,000 and 2,000,000 files (first scan and
//           unchanged rescan; datasets of 100,000 empty files; ACLs off so the first scan is not an ACL write of millions)
//   oneadd  `mata serve` on one dataset of 1,000,000 files: one file added, time until the API lists it, server RSS
// Usage: bun bench/sync-scale.ts [acl|growth|oneadd|all] [WORKDIR]   (default all, /tmp/mata-scale; trees are kept)
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.ts";
import { createToken } from "../src/auth/token.service.ts";
import { createContext } from "../src/services.ts";
import { ensureTree, median } from "./sync-tree.ts";

const [what = "all", work = "/tmp/mata-scale"] = process.argv.slice(2);
const repo = path.join(import.meta.dir, "..");
mkdirSync(work, { recursive: true });

/** Creates (once) `datasets` dataset folders of `folders` x `files` empty files under ROOT. */
function emptyTree(root: string, datasets: number, folders: number, files: number): void {
  const marker = `${root}.done`;
  if (existsSync(marker)) return;
  for (let d = 0; d < datasets; d++)
    for (let f = 0; f < folders; f++) {
      const dir = `${root}/ds${String(d).padStart(3, "0")}/f${String(f).padStart(4, "0")}`;
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < files; i++) closeSync(openSync(`${dir}/s${String(i).padStart(5, "0")}.dat`, "w"));
    }
  writeFileSync(marker, "");
}

function run(cmd: string[], env: Record<string, string> = {}): { ms: number; rssMB: number; out: string } {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { cwd: repo, stdout: "pipe", stderr: "pipe", env: { ...process.env, MATA_LOG: "error", ...env } });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return { ms, rssMB: Math.round((r.resourceUsage?.maxRSS ?? 0) / 1048576), out: r.stdout.toString() };
}
const find = (root: string) => run(["bash", "-c", `find '${root}' -printf '%s %T@ %i\\n' > /dev/null`]);
// The executable users run when it is built (`npm run build`), else the sources.
const mata = existsSync(path.join(repo, "dist/mata")) ? [path.join(repo, "dist/mata")] : [process.execPath, "src/main.ts"];
console.log(`running ${mata.join(" ")}`);
const scan = (root: string, state: string, env: Record<string, string> = {}) => run([...mata, "scan", "--json", "--root", root, "--state", state], env);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const r0 = (n: number) => Math.round(n);

if (what === "acl" || what === "all") {
  const root = path.join(work, "acl100k", "root");
  const state = path.join(work, "acl100k", "state");
  mkdirSync(root, { recursive: true });
  ensureTree(root);
  rmSync(state, { recursive: true, force: true });
  const first = scan(root, state, { MATA_ACLS: "true" });
  console.log(`acl: first scan with ACLs on (100,000 files, 1,000 datasets, every ACL written): ${r0(first.ms)} ms, peak RSS ${first.rssMB} MB`);
  const f: number[] = [];
  const m: { ms: number; rssMB: number }[] = [];
  for (let i = 0; i < 5; i++) {
    f.push(find(root).ms);
    m.push(scan(root, state, { MATA_ACLS: "true" }));
  }
  const fm = median(f);
  const mm = median(m.map((x) => x.ms));
  console.log(
    `acl: unchanged full reconcile, median of 5 | find ${r0(fm)} ms | mata scan (ACLs on, whole process) ${r0(mm)} ms = ${(mm / fm).toFixed(2)}x | peak RSS ${Math.max(...m.map((x) => x.rssMB))} MB | load ${load()}`,
  );
}

if (what === "growth" || what === "all") {
  for (const [label, datasets] of [
    ["100,000", 1],
    ["1,000,000", 10],
    ["2,000,000", 20],
  ] as const) {
    const root = path.join(work, `grow-${datasets}`);
    const state = path.join(work, `grow-${datasets}.state`);
    const t = performance.now();
    emptyTree(root, datasets, 1000, 100);
    const gen = performance.now() - t;
    rmSync(state, { recursive: true, force: true });
    const first = scan(root, state, { MATA_ACLS: "false" });
    const again = scan(root, state, { MATA_ACLS: "false" });
    const fnd = find(root);
    console.log(
      `growth ${label} files (${datasets} x 100,000; tree made in ${r0(gen)} ms): first scan ${r0(first.ms)} ms, peak RSS ${first.rssMB} MB | unchanged rescan ${r0(again.ms)} ms (find ${r0(fnd.ms)} ms, ${(again.ms / fnd.ms).toFixed(2)}x), peak RSS ${again.rssMB} MB | load ${load()}`,
    );
  }
}

if (what === "oneadd" || what === "all") {
  const root = path.join(work, "one1m");
  const state = path.join(work, "one1m.state");
  emptyTree(root, 1, 1000, 1000);
  rmSync(state, { recursive: true, force: true });
  const flags = ["--root", root, "--state", state];
  const env = { ...process.env, MATA_LOG: "warn", MATA_ACLS: "false" };
  const add = Bun.spawnSync([...mata, "user", "add", "bench", "--admin", "--state", state], {
    cwd: repo,
    stdin: Buffer.from("bench-password-1234\n"),
    env,
  });
  if (add.exitCode !== 0) throw new Error("user add failed");
  const tctx = createContext(loadConfig({ root, state }, {}));
  const token = createToken(tctx, "bench", "benchmark").secret;
  tctx.db.close();
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const auth = { Authorization: `Bearer ${token}` };
  const t0 = performance.now();
  const server = Bun.spawn([...mata, "serve", ...flags, "--listen", `127.0.0.1:${port}`], {
    cwd: repo,
    env,
    stdout: "ignore",
    stderr: "inherit",
  });
  const proc = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) / 1024;
  try {
    let id = 0;
    for (;;) {
      await Bun.sleep(500);
      try {
        const r = await fetch(`${base}/api/v1/datasets?limit=1`, { headers: auth });
        const body = (await r.json()) as { items: { id: number; files: { count: number } }[] };
        if (body.items[0]?.files.count === 1_000_000) {
          id = body.items[0].id;
          break;
        }
      } catch {
        // not listening yet
      }
    }
    console.log(
      `oneadd: serve started, watching, and reconciled 1,000,000 files ${r0(performance.now() - t0)} ms after spawn; peak RSS so far ${r0(proc("VmHWM"))} MB`,
    );
    await Bun.sleep(5000);
    const idle = proc("VmRSS");
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const rel = `f0500/added-${i}.txt`;
      writeFileSync(path.join(root, "ds000", rel), `one more ${i}\n`);
      const t = performance.now();
      for (;;) {
        const r = await fetch(`${base}/api/v1/datasets/${id}/files?after=${encodeURIComponent("f0500/added")}&limit=10`, { headers: auth });
        const body = (await r.json()) as { items: { path: string }[] };
        if (body.items.some((x) => x.path === rel)) break;
        await Bun.sleep(20);
      }
      times.push(performance.now() - t);
      await Bun.sleep(1000);
    }
    console.log(
      `oneadd: one file added to the 1,000,000-file dataset -> listed by the API: median ${r0(median(times))} ms (all ${times.map(r0).join(", ")}; stable_ms 1,000 is the floor) | server RSS idle ${r0(idle)} MB, now ${r0(proc("VmRSS"))} MB, peak ${r0(proc("VmHWM"))} MB | load ${load()}`,
    );
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    for (let i = 0; i < 5; i++) rmSync(path.join(root, "ds000", `f0500/added-${i}.txt`), { force: true });
  }
}
