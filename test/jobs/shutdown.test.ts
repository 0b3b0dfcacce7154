// The graceful stop of a real `mata serve`. SIGTERM in the middle of a long preview build and a running rule command:
// the process exits 0 within 10 s, the build's child and the command are gone with their temp output, both jobs are
// queued again (not failed), the database is whole with its log folded in; after a restart both jobs complete. A
// download under way finishes while new connections are refused; one too slow is cut after the drain time; a second
// signal exits at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../support/env.ts";
import { startLiveServer } from "../support/live-server.ts";
import { waitFor, writeMetaImage } from "./fixture.ts";

const PROJECT = path.resolve(import.meta.dir, "../..");
const tmp = tempDir("mata-shutdown-");
const root = path.join(tmp.dir, "root");
const state = path.join(tmp.dir, "state");
const marks = path.join(tmp.dir, "marks");
const procs: Bun.Subprocess[] = [];

beforeAll(() => {
  mkdirSync(path.join(root, "big"), { recursive: true });
  mkdirSync(marks);
  writeMetaImage(path.join(root, "big"), "vol", [512, 512, 160], (x, y, z) => (x * 3 + y * 5 + z * 7) % 4000);
  writeFileSync(path.join(root, "big", "notes.txt"), "scan notes");
  // The command runs long the first time only (it records its pid and leaves a mark outside the share).
  const script = `if [ -e ${marks}/ran ]; then exit 0; fi; echo $$ > ${marks}/pid; touch ${marks}/ran; exec sleep 300`;
  writeFileSync(
    path.join(tmp.dir, "mata.toml"),
    [
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      `listen = "127.0.0.1:0"`,
      "acls = false",
      "job_concurrency = 2",
      "stable_ms = 200",
      "debounce_ms = 100",
      "[[rules]]",
      `action = "preview"`,
      "[[rules]]",
      `glob = "*.txt"`,
      `command = ["sh", "-c", ${JSON.stringify(script)}]`,
      "timeout_seconds = 600",
    ].join("\n") + "\n",
  );
});

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  tmp.cleanup();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};

/** Tiler children of a process (their environment carries the marker). */
const tilersOf = (ppid: number) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const ppidOf = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
        return ppidOf === ppid && readFileSync(`/proc/${pid}/environ`, "utf8").includes("MATA_TILER_CHILD=1");
      } catch {
        return false;
      }
    });

type Job = { id: number; kind: string; state: string; progress: number; error: string | null };
function read<T>(sql: string): T[] {
  const db = new Database(path.join(state, "mata.db"), { readonly: true });
  try {
    return db.query<T, []>(sql).all();
  } finally {
    db.close();
  }
}
const jobs = () => read<Job>("SELECT id, kind, state, progress, error FROM jobs ORDER BY id");
const tmpLeft = () => {
  const dir = path.join(state, "previews", ".tmp");
  return existsSync(dir) ? readdirSync(dir) : [];
};

/** Starts `mata serve` on the test's config; `ownGroup` makes it lead a process group of its own (as under a terminal or systemd). */
async function serve(ownGroup = false): Promise<Bun.Subprocess<"ignore", "pipe", "pipe">> {
  const argv = [process.execPath, path.join(PROJECT, "src/main.ts"), "serve", "--config", path.join(tmp.dir, "mata.toml")];
  const p = Bun.spawn(ownGroup ? ["setsid", ...argv] : argv, {
    cwd: PROJECT,
    env: { ...process.env, MATA_LOG: "warn" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(p);
  const reader = p.stdout.getReader();
  let out = "";
  while (!/serving .* at http/.test(out)) {
    const r = await reader.read();
    if (r.done) throw new Error(`serve exited before serving: ${out} ${await new Response(p.stderr).text()}`);
    out += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  return p;
}

/** A signal to the process (or its whole group), then the exit code and how long it took. */
async function terminate(p: Bun.Subprocess, how: { signal?: NodeJS.Signals; group?: boolean } = {}): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  process.kill(how.group ? -p.pid : p.pid, how.signal ?? "SIGTERM");
  const code = await Promise.race([p.exited, Bun.sleep(15_000).then(() => -1)]);
  return { code, ms: performance.now() - t0 };
}

function databaseWhole(): void {
  const db = new Database(path.join(state, "mata.db"), { readonly: true });
  expect(db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check).toBe("ok");
  db.close();
}

test("SIGTERM mid-build: exit 0 within 10 s, nothing left running or half-made, jobs queued again and completed after a restart", async () => {
  const first = await serve();
  await waitFor("a preview build under way", () => jobs().find((j) => j.kind === "preview" && j.state === "running" && j.progress > 0.05), 120_000, 100);
  await waitFor("the rule command running", () => existsSync(`${marks}/pid`) && jobs().find((j) => j.kind === "command" && j.state === "running"), 30_000, 50);
  const commandPid = Number(readFileSync(`${marks}/pid`, "utf8"));
  const tilers = tilersOf(first.pid);
  expect(tilers.length).toBe(1);
  expect(alive(commandPid)).toBe(true);
  // One build in progress: its folder, and the scratch of its bricks beside it.
  expect(tmpLeft().filter((f) => !f.endsWith(".bricks")).length).toBe(1);
  const before = jobs();

  const stopped = await terminate(first);
  expect(stopped.code).toBe(0);
  expect(stopped.ms).toBeLessThan(10_000);
  expect(tilers.filter(alive)).toEqual([]);
  expect(alive(commandPid)).toBe(false);
  expect(tmpLeft()).toEqual([]);
  expect(existsSync(path.join(state, "mata.pid"))).toBe(false);
  // Queued again, not failed or cancelled, with no error recorded.
  const after = jobs();
  expect(after.map((j) => j.id)).toEqual(before.map((j) => j.id));
  for (const j of after.filter((j) => ["preview", "command"].includes(j.kind)))
    expect({ kind: j.kind, state: j.state, error: j.error }).toEqual({ kind: j.kind, state: "queued", error: null });
  databaseWhole();
  // The log was folded into mata.db and truncated: the file alone is the whole database.
  const wal = path.join(state, "mata.db-wal");
  expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);

  const second = await serve();
  const done = await waitFor(
    "every job done after the restart",
    () => {
      const all = jobs();
      return all.length > 0 && all.every((j) => j.state === "done" || j.state === "failed") && all;
    },
    180_000,
    200,
  );
  expect(done.filter((j) => j.state !== "done")).toEqual([]);
  for (const j of after) expect(done.find((d) => d.id === j.id)?.state).toBe("done");
  const previews = read<{ state: string }>("SELECT state FROM previews");
  expect(previews.map((p) => p.state)).toEqual(["ready"]);

  const again = await terminate(second);
  expect(again.code).toBe(0);
  expect(again.ms).toBeLessThan(10_000);
  expect(tmpLeft()).toEqual([]);
  databaseWhole();
}, 300_000);

test("SIGINT to the whole process group (a terminal's Ctrl-C, a service manager): the build's child waits for the server, the job is queued, not failed", async () => {
  mkdirSync(path.join(root, "big2"));
  writeMetaImage(path.join(root, "big2"), "vol", [512, 512, 160], (x, y, z) => (x * 5 + y * 3 + z * 11) % 4000);
  const server = await serve(true);
  const building = await waitFor(
    "the second build under way",
    () => jobs().find((j) => j.kind === "preview" && j.state === "running" && j.progress > 0.05),
    120_000,
    100,
  );
  const tilers = tilersOf(server.pid);
  expect(tilers.length).toBe(1);
  const stopped = await terminate(server, { signal: "SIGINT", group: true });
  expect(stopped.code).toBe(0);
  expect(stopped.ms).toBeLessThan(10_000);
  expect(tilers.filter(alive)).toEqual([]);
  expect(tmpLeft()).toEqual([]);
  expect(jobs().find((j) => j.id === building.id)).toMatchObject({ state: "queued", error: null });
  databaseWhole();
}, 180_000);

/** `curl` downloading a file at a capped rate (it throttles at the socket, so the server really waits for it). */
function slowDownload(url: string, token: string, bytesPerSecond: number) {
  const p = Bun.spawn(
    ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", "--limit-rate", String(bytesPerSecond), "-H", `Authorization: Bearer ${token}`, url],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return { done: Promise.all([p.exited, new Response(p.stdout).text()]).then(([code, size]) => ({ code, size: Number(size) })), kill: () => p.kill() };
}

const SIZE = 64 * 1024 * 1024;
const bigDataset = () => ({ big: { "big.bin": new Uint8Array(SIZE).fill(7) } });

test("a stop lets a request under way finish, while new connections are refused", async () => {
  const live = await startLiveServer(bigDataset());
  try {
    // About 2 s at this rate: more than the socket buffers hold, so the server is still sending when told to stop.
    const download = slowDownload(`${live.url}/api/v1/datasets/${live.ids.big}/files/big.bin`, live.admin.token, SIZE / 2);
    await Bun.sleep(500);
    const t0 = performance.now();
    process.kill(live.pid, "SIGTERM");
    await Bun.sleep(200);
    expect(
      await fetch(`${live.url}/api/v1/health`)
        .then((r) => r.status)
        .catch(() => "refused"),
    ).toBe("refused");
    expect(await download.done).toEqual({ code: 0, size: SIZE });
    expect(await live.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
  } finally {
    await live.stop();
  }
}, 60_000);

test("a client too slow to finish within the drain time is cut, and the stop still ends within 10 s with exit 0", async () => {
  const live = await startLiveServer(bigDataset());
  const download = slowDownload(`${live.url}/api/v1/datasets/${live.ids.big}/files/big.bin`, live.admin.token, 1024 * 1024);
  try {
    await Bun.sleep(500);
    const t0 = performance.now();
    process.kill(live.pid, "SIGTERM");
    expect(await live.exited).toBe(0);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThan(4_000);
    expect(ms).toBeLessThan(10_000);
  } finally {
    download.kill();
    await live.stop();
  }
}, 60_000);

test("a second signal exits at once", async () => {
  const live = await startLiveServer(bigDataset());
  const download = slowDownload(`${live.url}/api/v1/datasets/${live.ids.big}/files/big.bin`, live.admin.token, 1024 * 1024);
  try {
    await Bun.sleep(500);
    process.kill(live.pid, "SIGTERM");
    await Bun.sleep(1000);
    expect(alive(live.pid)).toBe(true);
    const t0 = performance.now();
    process.kill(live.pid, "SIGTERM");
    expect(await live.exited).toBe(128 + 15);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(existsSync(path.join(live.state, "mata.pid"))).toBe(false);
  } finally {
    download.kill();
    await live.stop();
  }
}, 60_000);
