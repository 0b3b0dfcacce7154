// docs/api.md stays true: every ```sh block runs in bash and every ```python block in python3 against a
// real `mata serve`, in document order, with only the variables the guide asks readers to set.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const PROJECT = path.resolve(import.meta.dir, "../..");
const DOC = path.join(PROJECT, "docs/api.md");

/** A fenced code block of the guide with the heading it sits under. */
interface Block {
  lang: "sh" | "python";
  code: string;
  heading: string;
}

/** The ```sh and ```python blocks of a Markdown text, in order. */
function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let heading = "";
  let open: { lang: string; lines: string[] } | null = null;
  for (const line of markdown.split("\n")) {
    if (open) {
      if (line.startsWith("```")) {
        if (open.lang === "sh" || open.lang === "python") blocks.push({ lang: open.lang, code: open.lines.join("\n") + "\n", heading });
        open = null;
      } else open.lines.push(line);
    } else if (line.startsWith("```")) open = { lang: line.slice(3).trim(), lines: [] };
    else if (/^#{1,4} /.test(line)) heading = line.replace(/^#+ /, "");
  }
  return blocks;
}

const blocks = codeBlocks(readFileSync(DOC, "utf8"));
let live: LiveServer;
let work: string;
let env: Record<string, string>;
const VOLUME = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);

beforeAll(async () => {
  live = await startLiveServer({
    "scan-001": {
      "volume.bin": VOLUME,
      "notes.txt": "femur of a sheep",
      // A small volume for the OME-Zarr export example.
      "ct.mhd": "ObjectType = Image\nNDims = 3\nDimSize = 20 16 6\nElementType = MET_UCHAR\nElementDataFile = ct.raw\n",
      "ct.raw": new Uint8Array(20 * 16 * 6).map((_, i) => i % 251),
    },
    "scan-002": { "a.dat": "the original" },
  });
  work = path.join(live.dir, "work");
  const bin = path.join(live.dir, "bin");
  mkdirSync(work);
  mkdirSync(bin);
  mkdirSync(path.join(live.dir, "home"));
  // `mata` on PATH, as on a machine where it is installed (run from source: Bun finds the JSX settings
  // through the checkout's tsconfig, not the blocks' working folder).
  const tsconfig = path.join(PROJECT, "tsconfig.json");
  writeFileSync(
    path.join(bin, "mata"),
    `#!/bin/sh\nexec "${process.execPath}" --tsconfig-override="${tsconfig}" "${path.join(PROJECT, "src/main.ts")}" "$@"\n`,
  );
  chmodSync(path.join(bin, "mata"), 0o755);
  env = {
    PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: path.join(live.dir, "home"),
    LANG: "C.UTF-8",
    MATA_LOG: "warn",
    MATA_URL: live.url,
    MATA_TOKEN: live.admin.token,
    DATASET: String(live.ids["scan-001"]),
    PARENT: String(live.ids["scan-002"]),
    COLLEAGUE: live.user.name,
    FILE: "volume.bin",
    MATA_USER: live.admin.name,
    MATA_PASSWORD: live.admin.password,
  };
  // A tag to search for, once the background indexer has it.
  const auth = { Authorization: `Bearer ${live.admin.token}`, "Content-Type": "application/json" };
  const put = await fetch(`${live.url}/api/v1/datasets/${live.ids["scan-001"]}/tags`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ tags: [{ key: "Species", value: "sheep", children: [] }] }),
  });
  expect(put.status).toBe(200);
  for (let i = 0; i < 50; i++) {
    const r = (await (await fetch(`${live.url}/api/v1/search?q=Species%3Dsheep`, { headers: auth })).json()) as { items: unknown[] };
    if (r.items.length) break;
    await Bun.sleep(200);
  }
}, 60_000);

afterAll(async () => {
  await live?.stop();
});

async function runBlock(b: Block, i: number): Promise<{ code: number; out: string; err: string }> {
  const file = path.join(live.dir, `block-${i}.${b.lang === "sh" ? "sh" : "py"}`);
  writeFileSync(file, b.code);
  // bash -e -o pipefail: a failing curl anywhere in the block fails it, as it would fail a careful script.
  const cmd = b.lang === "sh" ? ["bash", "-e", "-o", "pipefail", file] : ["python3", file];
  const p = Bun.spawn(cmd, { cwd: work, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** What each section's blocks must print, beyond exiting 0. */
const CHECKS: Record<string, (out: string, b: Block) => void> = {
  "Signing in": (out, b) => expect(out).toContain(b.lang === "sh" ? '"ok":true' : "signed in; the server lists 2 datasets"),
  "List datasets": (out) => expect(out).toContain("scan-001"),
  Search: (out) => expect(out).toContain("scan-001"),
  "Read a dataset": (out) => expect(out).toContain("scan-001"),
  "Get and set tags": (out) => expect(out).toMatch(/Species|tagsVersion|tags version/),
  "Set parents": (out) => expect(out).toContain("scan-002"),
  "Share a dataset": (out) => expect(out).toContain(live.user.name),
  "List files and download one": (out) => {
    expect(out).toContain("volume.bin");
    expect(out).toContain("206");
    const got = readFileSync(path.join(work, "volume.bin"));
    expect(got.equals(Buffer.from(VOLUME))).toBe(true);
  },
  "Create a token": (out) => expect(out).toMatch(/mata_[A-Za-z0-9_-]{16,}/),
  "Check that files are still the bytes that were scanned": (out, b) =>
    expect(out).toMatch(b.lang === "sh" ? /"hashed":\d+.*"job":\d+/s : /\d+ of \d+ files checksummed; 0 changed/),
  "See who changed or downloaded a dataset": (out, b) =>
    expect(out).toMatch(b.lang === "sh" ? /"action":"file\.download".*"target":"volume\.bin".*id,time_utc,actor,action/s : /tags\.edit .*Species/),
  "Export a dataset's volumes as OME-Zarr": (out, b) => {
    expect(out).toMatch(b.lang === "sh" ? /"jobId":\d+.*"state":"done"/s : /export job \d+ done/);
    expect(existsSync(path.join(live.root, "scan-001", "derived", "ct.ome.zarr", ".zattrs"))).toBe(true);
  },
  "The full reference": (out) => expect(out).toContain("/api/v1/datasets/{id}/tags"),
};

test("the guide has a curl and a Python example for every task", () => {
  const tasks = Object.keys(CHECKS);
  for (const t of tasks.filter((t) => t !== "The full reference")) {
    expect(blocks.filter((b) => b.heading === t && b.lang === "sh").length, t).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.heading === t && b.lang === "python").length, t).toBeGreaterThan(0);
  }
  for (const b of blocks) expect(tasks, `a block under "${b.heading}" has no check`).toContain(b.heading);
});

blocks.forEach((b, i) => {
  test(`docs/api.md block ${i + 1} (${b.lang}, "${b.heading}") runs`, async () => {
    const r = await runBlock(b, i + 1);
    expect(r.code, `${b.code}\n--- stdout:\n${r.out}\n--- stderr:\n${r.err}`).toBe(0);
    CHECKS[b.heading]?.(r.out, b);
  }, 30_000);
});

test("the examples did what they say: tags, parents, sharing, a token, a ranged download", async () => {
  const auth = { Authorization: `Bearer ${live.admin.token}` };
  const id = live.ids["scan-001"];
  const d = (await (await fetch(`${live.url}/api/v1/datasets/${id}`, { headers: auth })).json()) as {
    tags: { key: string; value: string; children: { key: string; value: string }[] }[];
    parents: number[];
  };
  expect(d.tags.find((t) => t.key === "Species")?.value).toBe("sheep");
  expect(d.tags.find((t) => t.key === "Scan")?.children).toEqual([{ key: "Voltage", value: "90", children: [] }] as never);
  expect(d.parents).toEqual([live.ids["scan-002"]!]);
  const access = (await (await fetch(`${live.url}/api/v1/datasets/${id}/access`, { headers: auth })).json()) as { viewers: string[] };
  expect(access.viewers).toEqual([live.user.name]);
  const tokens = (await (await fetch(`${live.url}/api/v1/tokens`, { headers: auth })).json()) as { items: { label: string }[] };
  expect(tokens.items.filter((t) => t.label === "nightly import").length).toBeGreaterThanOrEqual(2);
  expect(existsSync(path.join(work, "header.bin")) && statSync(path.join(work, "header.bin")).size).toBe(1024);
});
