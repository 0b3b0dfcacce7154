// Extraction as it runs in a server: a copied-in scan gets its Scan and Image tags through the file-type rule's job,
// written through the tags service (version, event, audit entry, sidecar mirror); a person's own keys and their edits
// of extracted ones are kept on every later run; keys the extractor no longer finds go, untouched ones only.
import { expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { extractDataset } from "../../src/extract/extract.service.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { readMetadataMirror } from "../../src/sync/sidecar.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { applyTagOps, readTags, replaceTags } from "../../src/tags/tags.service.ts";
import { withUser } from "../support/auth.ts";
import { waitFor } from "../jobs/fixture.ts";
import { at, contextsPerTest } from "../sync/helpers.ts";
import { writeNikon } from "./fixtures.ts";

const { ctxWith, cleanups } = contextsPerTest();

/** A dataset holding one Nikon scan, scanned in: its folder and id. */
async function femur(ctx: ReturnType<typeof ctxWith>): Promise<{ dir: string; id: number }> {
  const dir = path.join(ctx.config.root, "femur");
  writeNikon(dir, "femur", { w: 4, h: 4, d: 3 });
  await reconcileAll(ctx);
  return { dir, id: at(ctx, "femur").id };
}

const signal = () => new AbortController().signal;
const child = (tags: TagNode[], ...keys: string[]): TagNode | undefined =>
  keys.reduce<TagNode | undefined>((node, k) => (node ? node.children : tags).find((n) => n.key === k), undefined);
const values = (node: TagNode | undefined) => Object.fromEntries((node?.children ?? []).map((c) => [c.key, c.value]));

/** Rewrites one line of a Nikon header, as CT Pro does when a scan is reconstructed again. */
function setLine(file: string, key: string, value: string): void {
  writeFileSync(file, readFileSync(file, "latin1").replace(new RegExp(`^${key}=.*$`, "m"), `${key}=${value}`), "latin1");
}

test("a copied-in scan gets Scan and Image through its rule's job: one versioned change, its event, audit entry and mirror", async () => {
  const ctx = ctxWith();
  cleanups.push(await startJobs(ctx, { settleMs: 0 }));
  const { id } = await femur(ctx);
  const tags = await waitFor("extracted tags", () => {
    const t = readTags(ctx, id);
    return child(t.tags, "Image") && t;
  });
  expect(values(child(tags.tags, "Scan"))).toMatchObject({ Manufacturer: "Nikon", Voltage: "90 kV", Current: "112 µA", Projections: "3142" });
  expect(values(child(tags.tags, "Image"))).toEqual({ File: "femur.xtekct", Format: "nikon-xtek", Size: "4 x 4 x 3", Type: "uint16", Spacing: "0.0125 mm" });
  expect(tags.tagsVersion).toBe(2);
  const events = ctx.db.query<{ actor: string }, [number]>("SELECT actor FROM events WHERE kind = 'tags.extracted' AND dataset_id = ?").all(id);
  expect(events).toEqual([{ actor: "mata:extract" }]);
  const audit = ctx.db
    .query<{ actor: string; action: string; after: string }, [number]>("SELECT actor, action, after FROM audit_log WHERE dataset_id = ?")
    .all(id);
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({ actor: "mata:extract", action: "tags.edit" });
  expect(audit[0]!.after).toContain("90 kV");
  expect(readMetadataMirror(path.join(ctx.config.root, "femur"))?.tags).toEqual(tags.tags);

  // Searchable like any tag, and shown in the detail JSON.
  const app = createApp(ctx);
  const alice = withUser(ctx, "alice", { admin: true });
  const found = (await (await app.request("/api/v1/search?q=Nikon", { headers: alice.headers })).json()) as { items: { id: number }[] };
  expect(found.items.map((i) => i.id)).toEqual([id]);
}, 60_000);

test("a person's own key, their edit and their deletion are kept on every later run; the rest follows the files", async () => {
  const ctx = ctxWith();
  const { dir, id } = await femur(ctx);
  // Before any extraction, a person wrote down the voltage they measured: theirs, never overwritten.
  replaceTags(ctx, "alice", id, [{ key: "Scan", value: "", children: [{ key: "Voltage", value: "88 kV (measured)", children: [] }] }]);
  await extractDataset(ctx, id, signal());
  let tags = readTags(ctx, id).tags;
  expect(values(child(tags, "Scan"))).toMatchObject({ Voltage: "88 kV (measured)", Current: "112 µA", Projections: "3142", Filter: "0.5 mm Copper" });

  // They correct the current and delete the projections.
  const before0 = readTags(ctx, id);
  const scanAt = before0.tags.findIndex((n) => n.key === "Scan");
  const currentAt = before0.tags[scanAt]!.children.findIndex((n) => n.key === "Current");
  applyTagOps(ctx, "alice", id, [{ op: "edit", path: [scanAt, currentAt], key: "Current", value: "110 µA" }], before0.tagsVersion);
  const afterEdit = readTags(ctx, id);
  replaceTags(
    ctx,
    "alice",
    id,
    afterEdit.tags.map((t) => (t.key === "Scan" ? { ...t, children: t.children.filter((c) => c.key !== "Projections") } : t)),
  );
  tags = readTags(ctx, id).tags;
  expect(values(child(tags, "Scan")).Current).toBe("110 µA");
  expect(values(child(tags, "Scan")).Projections).toBeUndefined();

  // The scan is reconstructed again with new settings: what the extractor still owns follows, the person's stays.
  const file = path.join(dir, "femur.xtekct");
  setLine(file, "XraykV", "100");
  setLine(file, "XrayuA", "150");
  setLine(file, "Projections", "4000");
  setLine(file, "Filter_Material", "Tin");
  await reconcileAll(ctx);
  await extractDataset(ctx, id, signal());
  tags = readTags(ctx, id).tags;
  expect(values(child(tags, "Scan"))).toMatchObject({ Voltage: "88 kV (measured)", Current: "110 µA", Filter: "0.5 mm Tin" });
  expect(values(child(tags, "Scan")).Projections).toBeUndefined();

  // Nothing new: no new version, no audit entry.
  const before = readTags(ctx, id).tagsVersion;
  const audits = () => ctx.db.query<{ n: number }, [number]>("SELECT count(*) AS n FROM audit_log WHERE dataset_id = ?").get(id)!.n;
  const auditsBefore = audits();
  await extractDataset(ctx, id, signal());
  expect(readTags(ctx, id).tagsVersion).toBe(before);
  expect(audits()).toBe(auditsBefore);

  // The scan is removed: the extractor's own keys go, the person's stay (and the heading that holds them).
  rmSync(path.join(dir, "femur.xtekct"));
  rmSync(path.join(dir, "femur.vol"));
  writeFileSync(path.join(dir, "notes.txt"), "moved to the archive");
  await reconcileAll(ctx);
  await extractDataset(ctx, id, signal());
  tags = readTags(ctx, id).tags;
  expect(child(tags, "Image")).toBeUndefined();
  expect(values(child(tags, "Scan"))).toEqual({ Voltage: "88 kV (measured)", Current: "110 µA" });
}, 60_000);

test("a person who deletes the whole subtree keeps it deleted; people's other tags are never touched", async () => {
  const ctx = ctxWith();
  const { dir, id } = await femur(ctx);
  replaceTags(ctx, "alice", id, [{ key: "Patient", value: "", children: [{ key: "Species", value: "sheep", children: [] }] }]);
  await extractDataset(ctx, id, signal());
  const t = readTags(ctx, id);
  expect(t.tags.map((n) => n.key)).toEqual(["Patient", "Scan", "Image"]);
  replaceTags(
    ctx,
    "alice",
    id,
    t.tags.filter((n) => n.key !== "Scan"),
    t.tagsVersion,
  );
  setLine(path.join(dir, "femur.xtekct"), "XraykV", "120");
  await reconcileAll(ctx);
  await extractDataset(ctx, id, signal());
  const after = readTags(ctx, id).tags;
  expect(after.map((n) => n.key)).toEqual(["Patient", "Image"]);
  expect(after[0]).toEqual({ key: "Patient", value: "", children: [{ key: "Species", value: "sheep", children: [] }] });
}, 60_000);

test("unreadable files are recorded on the dataset (detail JSON and page) until a run reads them; the rest is extracted", async () => {
  const ctx = ctxWith();
  const dir = path.join(ctx.config.root, "mixed");
  writeNikon(dir, "good", { w: 2, h: 2, d: 2 });
  writeFileSync(path.join(dir, "half.nii"), new Uint8Array(100));
  await reconcileAll(ctx);
  const id = at(ctx, "mixed").id;
  await extractDataset(ctx, id, signal());
  expect(values(child(readTags(ctx, id).tags, "Scan")).Voltage).toBe("90 kV");
  const app = createApp(ctx);
  const admin = withUser(ctx, "root-admin", { admin: true });
  const detail = (await (await app.request(`/api/v1/datasets/${id}`, { headers: admin.headers })).json()) as {
    extraction?: { failures: { source: string; message: string }[] };
  };
  expect(detail.extraction?.failures).toEqual([expect.objectContaining({ source: "extract", message: expect.stringContaining("half.nii: ") })]);
  const page = await (await app.request(`/datasets/${id}`, { headers: admin.headers })).text();
  expect(page).toContain('data-extract-failure="extract"');
  rmSync(path.join(dir, "half.nii"));
  await reconcileAll(ctx);
  await extractDataset(ctx, id, signal());
  const clean = (await (await app.request(`/api/v1/datasets/${id}`, { headers: admin.headers })).json()) as Record<string, unknown>;
  expect(clean.extraction).toBeUndefined();
}, 60_000);

test("a start queues extraction of datasets it has not seen (an upgrade, changes while stopped), once", async () => {
  const ctx = ctxWith();
  // Scanned while no queue ran: as after an upgrade, or by `mata scan` beside a stopped server.
  const { dir, id } = await femur(ctx);
  const extractJobs = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE kind = 'extract'").get()!.n;
  let stop = await startJobs(ctx, { settleMs: 0 });
  await waitFor("backfilled tags", () => child(readTags(ctx, id).tags, "Image"));
  await stop();
  expect(extractJobs()).toBe(1);
  // Seen at this generation: the next start queues nothing.
  stop = await startJobs(ctx, { settleMs: 0 });
  await Bun.sleep(100);
  await stop();
  expect(extractJobs()).toBe(1);
  // Changed while stopped: the next start brings its tags up to date.
  setLine(path.join(dir, "femur.xtekct"), "XraykV", "130");
  await reconcileAll(ctx);
  stop = await startJobs(ctx, { settleMs: 0 });
  cleanups.push(stop);
  await waitFor("updated tags", () => values(child(readTags(ctx, id).tags, "Scan")).Voltage === "130 kV");
}, 60_000);
