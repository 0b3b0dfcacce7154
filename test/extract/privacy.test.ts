// The DICOM privacy guard: a patient's name, id, birth date, address (and the other identifying attributes) never reach
// tags, search, events, the audit log, the sidecar or a log line; the dataset is flagged by attribute name on its page
// and in its detail JSON, for its readers and admins only.
import { afterEach, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { setLogLevel } from "../../src/log.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { readTags } from "../../src/tags/tags.service.ts";
import { invalidateAccess } from "../../src/access/access.cache.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { waitFor } from "../jobs/fixture.ts";
import { at } from "../sync/helpers.ts";
import { identifyingAttributes, SECRETS, writeDicomWith } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

/** Every file below a folder, read whole (the state dir: database, WAL, anything derived). */
function allBytes(dir: string): string {
  let out = "";
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out += allBytes(p);
    else if (e.isFile() && statSync(p).size < 64 * 1024 * 1024) out += readFileSync(p, "latin1");
  }
  return out;
}

test("identifying attributes are flagged by name to readers and admins, and their values are copied nowhere", async () => {
  const ctx = testContext();
  cleanups.push(() => ctx.cleanup());
  // Every log line of the run, at the most verbose level.
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)) as typeof process.stderr.write;
  setLogLevel("debug");
  cleanups.push(() => {
    process.stderr.write = write;
    setLogLevel("info");
  });

  cleanups.push(await startJobs(ctx, { settleMs: 0 }));
  const dir = path.join(ctx.config.root, "ct");
  writeDicomWith(path.join(dir, "series", "IM0001.dcm"), identifyingAttributes());
  writeDicomWith(path.join(dir, "series", "IM0002.dcm"), identifyingAttributes());
  await reconcileAll(ctx);
  const id = at(ctx, "ct").id;
  ctx.db.query("UPDATE datasets SET owner = 'alice', owner_fixed = 1 WHERE id = ?").run(id);
  invalidateAccess(ctx, id);
  const tags = await waitFor("extracted tags", () => {
    const t = readTags(ctx, id).tags;
    return t.some((n) => n.key === "Scan") && t;
  });
  const scan = Object.fromEntries(tags.find((n) => n.key === "Scan")!.children.map((c) => [c.key, c.value]));
  expect(scan).toMatchObject({ Modality: "CT", Manufacturer: "Siemens", Model: "SOMATOM Force", Voltage: "120 kV", Date: "2019-03-11" });
  // The study time is no date: left out like the rest.
  expect(JSON.stringify(tags)).not.toContain("101512");
  // Wait for the previews too, so everything the server derives from the files has been written.
  await waitFor("jobs done", () => ctx.db.query("SELECT 1 FROM jobs WHERE state IN ('queued', 'running')").get() === null);

  const app = createApp(ctx);
  const alice = withUser(ctx, "alice");
  const bob = withUser(ctx, "bob");
  const admin = withUser(ctx, "carol", { admin: true });
  const detail = async (u: { headers: Record<string, string> }) =>
    (await (await app.request(`/api/v1/datasets/${id}`, { headers: u.headers })).json()) as { privacy?: { identifiers: string[] }; tags: unknown };
  const flagged = ["PatientAddress", "PatientBirthDate", "PatientID", "PatientName", "RequestedProcedureID"];
  expect((await detail(alice)).privacy).toEqual({ identifiers: flagged });
  expect((await detail(admin)).privacy).toEqual({ identifiers: flagged });
  // Bob may list the dataset and see its tags, not what its files hold.
  const forBob = await detail(bob);
  expect(forBob.tags).toEqual(tags);
  expect(forBob.privacy).toBeUndefined();
  const page = async (u: { headers: Record<string, string> }) => (await app.request(`/datasets/${id}`, { headers: u.headers })).text();
  const alicePage = await page(alice);
  expect(alicePage).toContain('data-privacy="identifiers"');
  expect(alicePage).toContain("PatientName");
  expect(await page(bob)).not.toContain("data-privacy");

  // Search finds the settings, never a patient.
  const search = async (q: string) =>
    ((await (await app.request(`/api/v1/search?q=${encodeURIComponent(q)}`, { headers: admin.headers })).json()) as { items: unknown[] }).items;
  expect(await search("SOMATOM")).toHaveLength(1);
  for (const secret of ["Quixote", "Dulcinea", SECRETS.id, "Toboso", "RQ-55-ZEBRA", "19610423"]) expect(await search(secret)).toEqual([]);

  // Nowhere in the state dir (database, WAL, previews), the sidecar, the pages, the API or the log.
  const everywhere = [allBytes(ctx.config.state), allBytes(path.join(dir, ".mata")), alicePage, JSON.stringify(await detail(admin)), logged.join("")].join(
    "\n",
  );
  for (const secret of Object.values(SECRETS)) expect(everywhere).not.toContain(secret);
  for (const part of ["Quixote", "Dulcinea", "Toboso"]) expect(everywhere).not.toContain(part);
  // The check can fail: the state dir does hold what was extracted.
  expect(everywhere).toContain("SOMATOM Force");
}, 60_000);
