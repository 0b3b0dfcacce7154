// External metadata plug-ins: configured by glob, run like rule commands (dataset folder, process group, timeout),
// JSON in and out; their tags land under their own subtree with a person's edits kept; every way a plug-in can fail
// is recorded on the dataset and fails that job alone.
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { ConfigError, loadConfig, type FileRule } from "../../src/config.ts";
import { extractRepo } from "../../src/extract/extract.repo.ts";
import { parsePluginAnswer } from "../../src/extract/plugin.job.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { applyTagOps, readTags } from "../../src/tags/tags.service.ts";
import { withUser } from "../support/auth.ts";
import { tempDir, testContext } from "../support/env.ts";
import { waitFor } from "../jobs/fixture.ts";
import { at, put } from "../sync/helpers.ts";
import { writeNikon } from "./fixtures.ts";

const EXAMPLE = path.join(import.meta.dir, "../../scripts/plugins/key-value-notes.py");
const PYTHON = "/usr/bin/python3";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

async function serve(rules: FileRule[]) {
  const ctx = testContext({ rules: [{ action: "extract", timeoutSeconds: 600 }, ...rules] });
  cleanups.push(() => ctx.cleanup());
  cleanups.push(await startJobs(ctx, { settleMs: 0 }));
  return ctx;
}

const jobsIdle = (ctx: ReturnType<typeof testContext>) => ctx.db.query("SELECT 1 FROM jobs WHERE state IN ('queued', 'running')").get() === null;
const subtree = (tags: TagNode[], key: string) => Object.fromEntries((tags.find((n) => n.key === key)?.children ?? []).map((c) => [c.key, c.value]));

describe("configuration", () => {
  const load = (toml: string) => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    writeFileSync(path.join(dir, "mata.toml"), toml);
    return loadConfig({ config: path.join(dir, "mata.toml"), root: dir, state: dir }, {});
  };
  test("a plug-in rule needs a glob and a subtree of its own", () => {
    const rule = (extra: string) => `[[rules]]\nplugin = ["/opt/p"]\n${extra}\n`;
    expect(load(rule('glob = "*.txt"\nsubtree = "Notes"\ntimeout_seconds = 5')).rules).toEqual([
      { glob: "*.txt", action: undefined, command: undefined, plugin: ["/opt/p"], subtree: "Notes", timeoutSeconds: 5 },
    ]);
    expect(() => load(rule('subtree = "Notes"'))).toThrow(/rules\[0\]\.glob must be a non-empty string/);
    expect(() => load(rule('glob = "*.txt"'))).toThrow(/rules\[0\]\.subtree must be a tag key/);
    expect(() => load(rule('glob = "*.txt"\nsubtree = "scan"'))).toThrow(/belongs to the built-in extractors/);
    expect(() => load(`${rule('glob = "*.a"\nsubtree = "N"')}${rule('glob = "*.b"\nsubtree = "N"')}`)).toThrow(/used by another plug-in rule/);
    expect(() => load('[[rules]]\nplugin = ["/opt/p"]\ncommand = ["/bin/true"]\nglob = "*"\nsubtree = "N"\n')).toThrow(ConfigError);
  });

  test("an answer must be JSON with a tags list within the tag limits", () => {
    expect(parsePluginAnswer('{"tags":[{"key":" Lens ","value":"20x"}]}')).toEqual([{ key: "Lens", value: "20x", children: [] }]);
    expect(() => parsePluginAnswer("Lens: 20x")).toThrow(/printed no valid JSON/);
    expect(() => parsePluginAnswer('[{"key":"Lens"}]')).toThrow(/without a "tags" list/);
    expect(() => parsePluginAnswer(`{"tags":[{"key":"${"k".repeat(300)}","value":""}]}`)).toThrow(/refused: The key of .* is 300 characters long/);
  });
});

test("the example plug-in's tags land under its subtree as mata:plugin; a person's edit there is kept on the next run", async () => {
  const ctx = await serve([{ glob: "*.notes.txt", plugin: [PYTHON, EXAMPLE], subtree: "Notes", timeoutSeconds: 30 }]);
  put(ctx.config.root, "cells/scan.notes.txt", "Objective: 20x\nLaser = 488 nm\n");
  await reconcileAll(ctx);
  const id = at(ctx, "cells").id;
  let tags = await waitFor("plug-in tags", () => readTags(ctx, id).tags.find((n) => n.key === "Notes") && readTags(ctx, id).tags);
  expect(subtree(tags, "Notes")).toEqual({ Objective: "20x", Laser: "488 nm" });
  expect(ctx.db.query("SELECT actor FROM audit_log WHERE dataset_id = ?").all(id)).toEqual([{ actor: "mata:plugin" }]);
  expect(ctx.db.query("SELECT kind FROM events WHERE dataset_id = ? AND kind LIKE 'plugin.%'").all(id)).toEqual([{ kind: "plugin.done" }]);

  const t = readTags(ctx, id);
  const notes = t.tags.findIndex((n) => n.key === "Notes");
  applyTagOps(ctx, "alice", id, [{ op: "edit", path: [notes, 0], key: "Objective", value: "20x water immersion" }], t.tagsVersion);
  put(ctx.config.root, "cells/scan.notes.txt", "Objective: 40x\nLaser = 561 nm\nPinhole: 1 AU\n");
  await reconcileAll(ctx);
  tags = await waitFor("second run", () => (subtree(readTags(ctx, id).tags, "Notes").Pinhole ? readTags(ctx, id).tags : null));
  expect(subtree(tags, "Notes")).toEqual({ Objective: "20x water immersion", Laser: "561 nm", Pinhole: "1 AU" });
}, 60_000);

test("every failing plug-in is recorded on its dataset and fails only its own job", async () => {
  const marker = `sleep ${30 + Math.random()}`;
  const sh = (script: string, glob: string, subtree: string, timeoutSeconds = 20): FileRule => ({
    glob,
    plugin: ["sh", "-c", script],
    subtree,
    timeoutSeconds,
  });
  const ctx = await serve([
    sh("echo not json", "*.a", "A"),
    sh("echo it broke >&2; exit 3", "*.b", "B"),
    sh(`${marker} & ${marker}`, "*.c", "C", 1),
    sh("head -c 2000000 /dev/zero | tr '\\0' a", "*.d", "D"),
    sh(`printf '{"tags":[{"key":"","value":"x"}]}'`, "*.e", "E"),
    { glob: "*.f", plugin: ["/nonexistent/plugin"], subtree: "F", timeoutSeconds: 5 },
  ]);
  const dir = path.join(ctx.config.root, "scan");
  for (const ext of ["a", "b", "c", "d", "e", "f"]) put(ctx.config.root, `scan/x.${ext}`, "x");
  writeNikon(dir, "femur", { w: 2, h: 2, d: 2 });
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  await waitFor("all jobs done", () => jobsIdle(ctx) && ctx.db.query("SELECT 1 FROM jobs WHERE kind = 'plugin'").get() !== null, 30_000);
  const failures = Object.fromEntries(
    extractRepo(ctx.db)
      .failures(id)
      .map((f) => [f.source, f.message]),
  );
  expect(failures).toEqual({
    A: expect.stringMatching(/^plug-in sh: printed no valid JSON/),
    B: "plug-in sh: exited with code 3: it broke",
    C: "plug-in sh: timed out after 1 s",
    D: "plug-in sh: printed more than 1 MiB",
    E: expect.stringMatching(/^plug-in sh: printed tags that were refused: The key of .* is empty/),
    F: expect.stringMatching(/^plug-in \/nonexistent\/plugin: (could not start|exited with code 127)/),
  });
  const states = ctx.db.query<{ state: string }, []>("SELECT state FROM jobs WHERE kind = 'plugin'").all();
  expect(states.map((s) => s.state)).toEqual(["failed", "failed", "failed", "failed", "failed", "failed"]);
  expect(ctx.db.query("SELECT count(*) AS n FROM events WHERE kind = 'plugin.failed' AND dataset_id = ?").get(id)).toEqual({ n: 6 });
  // The timed-out plug-in's whole process group was killed, its background child included.
  expect(Bun.spawnSync(["pgrep", "-f", marker]).exitCode).toBe(1);
  // No plug-in tag was written; the built-in extractors ran as usual.
  const tags = readTags(ctx, id).tags;
  expect(tags.map((n) => n.key)).toEqual(["Scan", "Image"]);
  // The page and the detail JSON say what failed.
  const app = createApp(ctx);
  const admin = withUser(ctx, "root-admin", { admin: true });
  const detail = (await (await app.request(`/api/v1/datasets/${id}`, { headers: admin.headers })).json()) as { extraction: { failures: { source: string }[] } };
  expect(detail.extraction.failures.map((f) => f.source)).toEqual(["A", "B", "C", "D", "E", "F"]);

  // Fixed, it runs again on the next change and its failure is cleared.
  ctx.config.rules[2] = sh(`printf '{"tags":[{"key":"Fixed","value":"yes"}]}'`, "*.b", "B");
  put(ctx.config.root, "scan/x.b", "again");
  await reconcileAll(ctx);
  await waitFor("fixed plug-in", () => subtree(readTags(ctx, id).tags, "B").Fixed === "yes");
  expect(
    extractRepo(ctx.db)
      .failures(id)
      .map((f) => f.source),
  ).toEqual(["A", "C", "D", "E", "F"]);
}, 60_000);
