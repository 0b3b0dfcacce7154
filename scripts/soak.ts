// Crash soak: kills `mata serve` with SIGKILL at random moments while reconciles, metadata and tag edits, grant
// changes and preview builds run, and after every kill checks that nothing acknowledged was lost:
//   - `PRAGMA integrity_check` is ok;
//   - every edit answered 2xx is in the database (or the one still in flight at the kill, which may have landed), and
//     every committed change has its audit log entry;
//   - every sidecar in the share parses (identity, metadata mirror, manifest and each line of its log);
//   - after the restart, every preview is ready (and served) or queued/running again, and no temp file is left.
// Usage (as root, from the checkout): scripts/soak [--cycles 100] [--seed N] [--max-ms 4000] [--binary dist/mata]
// Exit 0 when every check of every cycle held; the figures go to stdout (see docs/reliability.md).
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { tmpdir } from "node:os";

const { values } = parseArgs({
  options: {
    cycles: { type: "string", default: "100" },
    seed: { type: "string", default: String(Date.now() % 100000) },
    "max-ms": { type: "string", default: "7000" },
    binary: { type: "string" },
    datasets: { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
  },
});
const CYCLES = Number(values.cycles);
const MAX_MS = Number(values["max-ms"]);
const DATASETS = Number(values.datasets);
const PROJECT = path.resolve(import.meta.dir, "..");
const MATA = values.binary ? [path.resolve(values.binary)] : [process.execPath, path.join(PROJECT, "src/main.ts")];

// A small deterministic generator, so a failing run can be repeated with its seed.
let seed = Number(values.seed) >>> 0 || 1;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;

const dir = path.join(tmpdir(), `mata-soak-${process.pid}`);
const root = path.join(dir, "root");
const state = path.join(dir, "state");
const ADMIN = { name: "soak", password: "soak-admin-password-1" };
const auth = { Authorization: `Basic ${btoa(`${ADMIN.name}:${ADMIN.password}`)}`, "Content-Type": "application/json" };
const VIEWERS = ["viewer1", "viewer2", "viewer3"];
const folders = Array.from({ length: DATASETS }, (_, i) => `ds${i}`);

/** A MetaImage volume (uint8) the preview builds from: a new one starts a build. */
function writeVolume(folder: string, name: string, n: number): void {
  const raw = Buffer.alloc(n * n * n);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761 + n) & 0xff;
  writeFileSync(path.join(root, folder, `${name}.raw`), raw);
  writeFileSync(
    path.join(root, folder, `${name}.mhd`),
    `ObjectType = Image\nNDims = 3\nDimSize = ${n} ${n} ${n}\nElementType = MET_UCHAR\nElementSpacing = 1 1 1\nElementDataFile = ${name}.raw\n`,
  );
}

async function sh(argv: string[], stdin?: string): Promise<string> {
  const p = Bun.spawn(argv, {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, MATA_LOG: "warn" },
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err || out}`);
  return out;
}

interface Server {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  url: string;
}

/** The server running now, stopped by its pid when the soak fails. */
let running: Bun.Subprocess | undefined;

async function start(): Promise<Server> {
  const proc = Bun.spawn([...MATA, "serve", "--root", root, "--state", state, "--listen", "127.0.0.1:0"], {
    env: { ...process.env, MATA_LOG: "warn", MATA_STABLE_MS: "200", MATA_DEBOUNCE_MS: "100", MATA_JOB_CONCURRENCY: "2" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running = proc;
  // stderr is drained so a chatty server never blocks; it is shown only when the start fails.
  const errText = new Response(proc.stderr).text();
  const reader = proc.stdout.getReader();
  let out = "";
  // A read that loses the race to the timer stays pending and is awaited next time round: dropping it would drop
  // whatever chunk it returns later (once, the very line announcing the address).
  let pending: ReturnType<typeof reader.read> | null = null;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    pending ??= reader.read();
    const r = await Promise.race([pending, Bun.sleep(500).then(() => null)]);
    if (r === null) continue;
    pending = null;
    if (r.done) break;
    if (r.value) out += new TextDecoder().decode(r.value);
    const m = /serving .* at (http:\/\/\S+)/.exec(out);
    if (m) {
      void (async () => {
        for (;;) if ((await reader.read()).done) break;
      })();
      return { proc, url: m[1]! };
    }
  }
  proc.kill("SIGKILL");
  await proc.exited;
  throw new Error(`mata serve did not start (${proc.signalCode ?? `exit code ${proc.exitCode}`}): ${out} ${await errText}`);
}

/** What the client was told was saved, per dataset and field, and what was in flight when the server died. */
interface Ledger {
  acked: Map<string, string>;
  inflight: Map<string, string>;
}

interface Counts {
  sent: number;
  acked: number;
  fileChanges: number;
  volumes: number;
  killsDuringBuild: number;
  ready: number;
  pending: number;
}

async function edit(s: Server, ids: number[], ledger: Ledger, stopAt: number, counts: Counts): Promise<void> {
  // One lane per dataset: each field has at most one write in flight, so the database holds the last acknowledged
  // value or the one in flight, nothing else.
  await Promise.all(
    ids.map(async (id, lane) => {
      let n = 0;
      while (Date.now() < stopAt) {
        const kind = pick(["title", "description", "tags", "access"]);
        const value = `${kind}-${lane}-${counts.sent}-${n++}-${Math.floor(rand() * 1e6)}`;
        const key = `${id}:${kind}`;
        const req =
          kind === "tags"
            ? { method: "PUT", url: `/api/v1/datasets/${id}/tags`, body: { tags: [{ key: "Soak", value, children: [] }] } }
            : kind === "access"
              ? { method: "PUT", url: `/api/v1/datasets/${id}/access`, body: { viewers: VIEWERS.filter(() => rand() < 0.5) } }
              : { method: "PATCH", url: `/api/v1/datasets/${id}`, body: { [kind]: value } };
        const stored = kind === "access" ? [...(req.body as { viewers: string[] }).viewers].sort().join(",") : value;
        ledger.inflight.set(key, stored);
        counts.sent++;
        try {
          const r = await fetch(`${s.url}${req.url}`, { method: req.method, headers: auth, body: JSON.stringify(req.body) });
          const answer = await r.text();
          if (r.ok) {
            ledger.acked.set(key, stored);
            ledger.inflight.delete(key);
            counts.acked++;
          } else if (r.status !== 409) throw new Error(`${req.method} ${req.url} answered ${r.status}: ${answer.slice(0, 300)}`);
        } catch (e) {
          if (Date.now() < stopAt - 50 && !/ECONNRESET|ConnectionRefused|socket|closed|Unable to connect/i.test(String(e))) throw e;
          return; // the server died under it: this write stays "in flight"
        }
      }
    }),
  );
}

/** File activity: new notes, renames, and now and then a new volume (a preview build). */
async function touchFiles(stopAt: number, counts: Counts): Promise<void> {
  let n = 0;
  while (Date.now() < stopAt) {
    const folder = pick(folders);
    const r = rand();
    if (r < 0.2) {
      writeVolume(folder, `vol${n}`, 48 + Math.floor(rand() * 64));
      counts.volumes++;
    } else if (r < 0.6) writeFileSync(path.join(root, folder, `note-${n}.txt`), `note ${n}\n`);
    else {
      const notes = readdirSync(path.join(root, folder)).filter((f) => f.startsWith("note-"));
      if (notes.length) renameSync(path.join(root, folder, pick(notes)), path.join(root, folder, `moved-${n}.txt`));
    }
    n++;
    counts.fileChanges++;
    await Bun.sleep(20 + rand() * 150);
  }
}

function fail(cycle: number, what: string): never {
  console.error(`cycle ${cycle}: ${what}`);
  console.error(`state kept in ${dir} (seed ${values.seed})`);
  running?.kill("SIGKILL");
  process.exit(1);
}

/** Checks with the server dead: the database file and the share's sidecars. */
function checkOffline(cycle: number, ids: Map<number, string>, ledger: Ledger): boolean {
  const db = new Database(path.join(state, "mata.db"));
  let building = false;
  try {
    building = db.query("SELECT 1 FROM jobs WHERE kind = 'preview' AND state = 'running'").get() !== null;
    const ok = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check;
    if (ok !== "ok") fail(cycle, `integrity_check: ${ok}`);
    const unaudited = db
      .query<{ n: number }, []>(
        `SELECT (SELECT count(*) FROM events WHERE kind IN ('metadata.edited', 'tags.replaced', 'access.changed')) -
                (SELECT count(*) FROM audit_log WHERE action IN ('metadata.edit', 'tags.edit', 'access.grants')) AS n`,
      )
      .get()!.n;
    if (unaudited !== 0) fail(cycle, `${unaudited} committed changes have no audit entry (or entries no change)`);
    for (const [key, value] of ledger.acked) {
      const [idText, kind] = key.split(":");
      const id = Number(idText);
      const now =
        kind === "tags"
          ? db.query<{ value: string }, [number]>("SELECT value FROM tags WHERE dataset_id = ? AND key = 'Soak'").get(id)?.value
          : kind === "access"
            ? db
                .query<{ p: string }, [number]>("SELECT substr(principal, 6) AS p FROM grants WHERE dataset_id = ? AND principal LIKE 'user:%' ORDER BY 1")
                .all(id)
                .map((r) => r.p)
                .join(",")
            : db.query<Record<string, string>, [number]>(`SELECT ${kind === "title" ? "title" : "description"} AS v FROM datasets WHERE id = ?`).get(id)?.v;
      if (now !== value && now !== ledger.inflight.get(key)) fail(cycle, `acknowledged ${key} = ${value} lost: the database has ${now}`);
      // The audit entry is written in the change's own transaction: what the database holds, its log holds too.
      if (now !== undefined && kind !== "access") {
        const logged = db
          .query("SELECT 1 FROM audit_log WHERE dataset_id = ? AND action = ? AND instr(after, ?) > 0")
          .get(id, kind === "tags" ? "tags.edit" : "metadata.edit", JSON.stringify(now));
        if (!logged) fail(cycle, `${key} = ${now} is in the database but not in its audit log`);
      }
      // What the database now holds is what counts as acknowledged from here on.
      if (now !== undefined) ledger.acked.set(key, now);
      ledger.inflight.delete(key);
    }
  } finally {
    db.close();
  }
  for (const folder of ids.values()) {
    const side = path.join(root, folder, ".mata");
    if (!existsSync(side)) continue;
    for (const name of readdirSync(side)) {
      const file = path.join(side, name);
      if (name.endsWith(".json")) {
        try {
          JSON.parse(readFileSync(file, "utf8"));
        } catch (e) {
          fail(cycle, `${folder}/.mata/${name} does not parse: ${(e as Error).message}`);
        }
      } else if (name === "manifest.log") {
        const lines = readFileSync(file, "utf8").split("\n");
        // Each append is one write(2) and an fsync: a kill cannot cut a line, so every line must parse.
        for (const [i, line] of lines.entries()) {
          if (line === "" && i === lines.length - 1) continue;
          try {
            JSON.parse(line);
          } catch {
            fail(cycle, `${folder}/.mata/manifest.log line ${i + 1} does not parse: ${line.slice(0, 80)}`);
          }
        }
      }
    }
  }
  return building;
}

/** Checks after a restart: previews ready (and served) or on their way again, and no temp file anywhere. */
async function checkRestarted(cycle: number, s: Server, ids: Map<number, string>): Promise<{ ready: number; pending: number }> {
  let ready = 0;
  let pending = 0;
  for (const id of ids.keys()) {
    // The restart's reconcile may add a volume found since the kill, which renumbers the list: read it again then.
    for (let attempt = 1; ; attempt++) {
      const r = await fetch(`${s.url}/api/v1/datasets/${id}/previews`, { headers: auth });
      if (!r.ok) fail(cycle, `previews of ${id}: ${r.status}`);
      const { previews } = (await r.json()) as { previews: { state: string; thumbnail?: string; file: string; error?: string }[] };
      let missing = "";
      let counted = { ready: 0, pending: 0 };
      for (const p of previews) {
        if (p.state === "ready") {
          counted.ready++;
          const t = p.thumbnail ? await fetch(`${s.url}${p.thumbnail}`, { headers: auth }) : null;
          await t?.arrayBuffer();
          if (t && !t.ok) missing = `ready preview of ${p.file} in ${id}: thumbnail ${t.status}`;
        } else if (p.state === "queued" || p.state === "running") counted.pending++;
        else if (p.state === "failed") fail(cycle, `preview of ${p.file} in ${id} failed: ${p.error}`);
      }
      if (!missing) {
        ready += counted.ready;
        pending += counted.pending;
        break;
      }
      if (attempt === 5) fail(cycle, missing);
      await Bun.sleep(300);
    }
  }
  const temps: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (/\.tmp(-\d+)?$|\.tmp-\d+|\.tmp\./.test(e.name) && !e.name.includes(`.tmp-${s.proc.pid}-`)) temps.push(path.join(rel, e.name));
      if (e.isDirectory()) walk(p, path.join(rel, e.name));
    }
  };
  for (const folder of ids.values()) if (existsSync(path.join(root, folder, ".mata"))) walk(path.join(root, folder, ".mata"), `${folder}/.mata`);
  const previewTmp = path.join(state, "previews", ".tmp");
  // A build the restarted server has begun already works in a folder named with its own pid: only older ones count.
  const live = `.${s.proc.pid}.`;
  if (existsSync(previewTmp))
    temps.push(
      ...readdirSync(previewTmp)
        .filter((n) => !n.includes(live))
        .map((n) => `previews/.tmp/${n}`),
    );
  if (temps.length) fail(cycle, `temp files left after the restart: ${temps.slice(0, 5).join(", ")}`);
  return { ready, pending };
}

async function main(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  for (const f of folders) {
    mkdirSync(path.join(root, f), { recursive: true });
    writeVolume(f, "base", 32);
  }
  await sh([...MATA, "user", "add", ADMIN.name, "--admin", "--state", state], `${ADMIN.password}\n`);
  for (const v of VIEWERS) await sh([...MATA, "user", "add", v, "--state", state], `${v}-password-long\n`);
  const counts: Counts = { sent: 0, acked: 0, fileChanges: 0, volumes: 0, killsDuringBuild: 0, ready: 0, pending: 0 };
  const ledger: Ledger = { acked: new Map(), inflight: new Map() };
  const t0 = performance.now();
  let ids = new Map<number, string>();
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const s = await start();
    if (ids.size < folders.length) {
      for (let i = 0; i < 200 && ids.size < folders.length; i++) {
        const list = (await (await fetch(`${s.url}/api/v1/datasets?limit=100`, { headers: auth })).json()) as { items: { id: number; path: string }[] };
        ids = new Map(list.items.filter((d) => folders.includes(d.path)).map((d) => [d.id, d.path]));
        if (ids.size < folders.length) await Bun.sleep(100);
      }
    }
    // The restart's own checks come after its first reconcile has had time to clear what the kill left.
    await Bun.sleep(600);
    const after = await checkRestarted(cycle, s, ids);
    counts.ready += after.ready;
    counts.pending += after.pending;
    const life = 200 + rand() * MAX_MS;
    const stopAt = Date.now() + life;
    // Files change in the first part of a life only, so datasets settle (3 s) and builds start before the kill.
    const work = Promise.all([edit(s, [...ids.keys()], ledger, stopAt + 5000, counts), touchFiles(Date.now() + life * rand() * 0.4, counts)]);
    await Bun.sleep(life);
    s.proc.kill("SIGKILL");
    await s.proc.exited;
    // Tiler children notice their parent is gone (stdin closes) and stop; give them a moment.
    await Bun.sleep(150);
    await Promise.race([work, Bun.sleep(3000)]);
    const building = checkOffline(cycle, ids, ledger);
    if (building) counts.killsDuringBuild++;
    console.log(
      `cycle ${cycle}: killed after ${Math.round(life)} ms${building ? " during a preview build" : ""}; ${counts.acked} edits acknowledged so far, all present`,
    );
  }
  const s = await start();
  await Bun.sleep(600);
  await checkRestarted(CYCLES + 1, s, ids);
  s.proc.kill("SIGTERM");
  await s.proc.exited;
  const db = new Database(path.join(state, "mata.db"), { readonly: true });
  const size = statSync(path.join(state, "mata.db")).size;
  db.close();
  console.log(
    `soak: ${CYCLES} SIGKILLs in ${Math.round((performance.now() - t0) / 1000)} s (seed ${values.seed}); ${counts.sent} edits sent, ${counts.acked} acknowledged, none lost; ` +
      `${counts.fileChanges} file changes (${counts.volumes} new volumes), ${counts.killsDuringBuild} kills during a preview build; ` +
      `after restarts ${counts.ready} previews ready and served, ${counts.pending} queued again; no temp file left; integrity_check ok every time; database ${size} bytes`,
  );
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

await main();
