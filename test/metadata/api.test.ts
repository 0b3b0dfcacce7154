import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { subtreeHash } from "../../src/tags/tag-hash.ts";
import { MAX_DEPTH, MAX_TAGS } from "../../src/tags/tag-limits.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";
import { getTagTree } from "../../src/tags/tags.service.ts";
import { getRelatives } from "../../src/relations/relations.service.ts";
import { testContext } from "../support/env.ts";
import { addDataset, signIn } from "./support.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup() {
  const ctx = testContext();
  cleanups.push(ctx.cleanup);
  const app = createApp(ctx);
  const { headers } = signIn(ctx);
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await app.request(url, {
      method,
      headers: { ...headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  return { ctx, app, call };
}

const t = (key: string, value = "", children: TagNode[] = []): TagNode => ({ key, value, children });

describe("tag tree API", () => {
  test("PUT stores the ordered tree, bumps tags_version, hashes every row, logs and mirrors it", async () => {
    const { ctx, call } = setup();
    const id = addDataset(ctx, { path: "scan1", title: "Scan 1" });
    const tree = [t("Patient", "", [t("Species", "sheep"), t("Age", "3")]), t("Imaging", "", [t("Scan settings", "", [t("Projections", "3142")])])];
    const r = await call("PUT", `/api/v1/datasets/${id}/tags`, { tags: tree, version: 1 });
    expect(r.status).toBe(200);
    expect(r.json.tagsVersion).toBe(2);
    expect(getTagTree(ctx.db, id)).toEqual(tree);
    const rows = ctx.db.query<{ key: string; subtree_hash: string }, [number]>("SELECT key, subtree_hash FROM tags WHERE dataset_id = ?").all(id);
    expect(rows).toHaveLength(6);
    const patient = rows.find((x) => x.key === "Patient")!;
    expect(patient.subtree_hash).toBe(subtreeHash(tree[0]!));
    // Order of children is ignored by the hash.
    expect(subtreeHash(t("Patient", "", [t("Age", "3"), t("Species", "sheep")]))).toBe(patient.subtree_hash);
    expect(subtreeHash(t("Patient", "", [t("Age", "4"), t("Species", "sheep")]))).not.toBe(patient.subtree_hash);
    const mirror = JSON.parse(readFileSync(path.join(ctx.config.root, "scan1/.mata/metadata.json"), "utf8"));
    expect(mirror.tags).toEqual(tree);
    expect(mirror.title).toBe("Scan 1");
    const ev = ctx.db.query<{ kind: string; actor: string }, [number]>("SELECT kind, actor FROM events WHERE dataset_id = ?").all(id);
    expect(ev).toContainEqual({ kind: "tags.replaced", actor: "alice" });
    const got = await call("GET", `/api/v1/datasets/${id}/tags`);
    expect(got.json).toEqual({ tags: tree, tagsVersion: 2 });
  });

  test("two people editing the same tree: one wins, the other gets 409 with the current tree, nothing lost", async () => {
    const { ctx, call } = setup();
    const id = addDataset(ctx, { path: "d" });
    const [a, b] = await Promise.all([
      call("PUT", `/api/v1/datasets/${id}/tags`, { tags: [t("Species", "sheep")], version: 1 }),
      call("PUT", `/api/v1/datasets/${id}/tags`, { tags: [t("Species", "pig")], version: 1 }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    expect(loser.json.error.message).toMatch(/Someone else changed these tags/);
    expect(loser.json.error.details.current.tags).toEqual(winner.json.tags);
    expect(getTagTree(ctx.db, id)).toEqual(winner.json.tags);
  });

  test("bad input is refused with a message naming the problem", async () => {
    const { ctx, call } = setup();
    const id = addDataset(ctx, { path: "d" });
    const put = (tags: unknown) => call("PUT", `/api/v1/datasets/${id}/tags`, { tags });
    let r = await put([t("   ")]);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/key of tag tags\[0\] is empty/);
    r = await put([t("Notes", "x".repeat(100 * 1024))]);
    expect(r.status).toBe(413);
    expect(r.json.error.message).toBe('The value of tag "Notes" is 102,400 characters long; the limit is 4,096');
    r = await put(Array.from({ length: 10_000 }, (_, i) => t(`k${i}`, "v")));
    expect(r.status).toBe(413);
    expect(r.json.error.message).toMatch(new RegExp(`at most ${MAX_TAGS.toLocaleString("en-US")} tags`));
    let deep = t(`level${MAX_DEPTH + 1}`);
    for (let i = MAX_DEPTH; i >= 1; i--) deep = t(`level${i}`, "", [deep]);
    r = await put([deep]);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(new RegExp(`at most ${MAX_DEPTH} levels deep`));
    r = await put("nope");
    expect(r.status).toBe(400);
    expect(getTagTree(ctx.db, id)).toEqual([]);
    // Keys and values are trimmed; HTML is kept as text, untouched.
    r = await put([t("  <b>Species</b> ", " <script>alert(1)</script> ")]);
    expect(r.status).toBe(200);
    expect(getTagTree(ctx.db, id)).toEqual([t("<b>Species</b>", "<script>alert(1)</script>")]);
  });

  test("import from parents copies missing keys with children, leaves set keys alone, reports both", async () => {
    const { ctx, call } = setup();
    const p1 = addDataset(ctx, { path: "ct", title: "CT" });
    const p2 = addDataset(ctx, { path: "spect", title: "SPECT" });
    const child = addDataset(ctx, { path: "fusion", title: "Fusion" });
    await call("PUT", `/api/v1/datasets/${p1}/tags`, { tags: [t("Patient", "", [t("Species", "sheep")]), t("Modality", "CT"), t("Site", "Bern")] });
    await call("PUT", `/api/v1/datasets/${p2}/tags`, { tags: [t("Modality", "SPECT"), t("Tracer", "Tc-99m"), t("patient", "other")] });
    await call("PUT", `/api/v1/datasets/${child}/tags`, { tags: [t("Site", "Zurich")] });
    expect((await call("PUT", `/api/v1/datasets/${child}/parents`, { parents: [p1, p2] })).status).toBe(200);
    const r = await call("POST", `/api/v1/datasets/${child}/tags/import-from-parents`);
    expect(r.status).toBe(200);
    expect(r.json.tags).toEqual([t("Site", "Zurich"), t("Patient", "", [t("Species", "sheep")]), t("Modality", "CT"), t("Tracer", "Tc-99m")]);
    expect(r.json.imported.map((i: any) => `${i.key}<-${i.from.title}`)).toEqual(["Patient<-CT", "Modality<-CT", "Tracer<-SPECT"]);
    expect(r.json.skipped.map((i: any) => i.key)).toEqual(["Site", "Modality", "patient"]);
    // A second import brings nothing and changes nothing.
    const again = await call("POST", `/api/v1/datasets/${child}/tags/import-from-parents`);
    expect(again.json.imported).toEqual([]);
    expect(again.json.tagsVersion).toBe(r.json.tagsVersion);
  });
});

describe("sidecar mirror", () => {
  test("a vanished dataset folder is not re-created by an edit; the edit itself is kept", async () => {
    const { ctx, call } = setup();
    const id = addDataset(ctx, { path: "gone" });
    rmSync(path.join(ctx.config.root, "gone"), { recursive: true });
    const r = await call("PATCH", `/api/v1/datasets/${id}`, { title: "Still saved" });
    expect(r.status).toBe(200);
    expect(existsSync(path.join(ctx.config.root, "gone"))).toBe(false);
    expect((await call("GET", `/api/v1/datasets/${id}`)).json.title).toBe("Still saved");
  });
});

describe("title and description", () => {
  test("PATCH edits, bumps the version; an outdated edit is refused with the current values", async () => {
    const { ctx, call } = setup();
    const id = addDataset(ctx, { path: "d", title: "Old" });
    const a = await call("PATCH", `/api/v1/datasets/${id}`, { title: "  Sheep   femur ", description: "micro-CT\nof a femur", version: 1 });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ id, title: "Sheep femur", description: "micro-CT\nof a femur", version: 2 });
    const b = await call("PATCH", `/api/v1/datasets/${id}`, { title: "Mine", version: 1 });
    expect(b.status).toBe(409);
    expect(b.json.error.message).toContain('title is now "Sheep femur"');
    expect(b.json.error.details.current).toEqual({ title: "Sheep femur", description: "micro-CT\nof a femur", version: 2 });
    expect((await call("GET", `/api/v1/datasets/${id}`)).json.title).toBe("Sheep femur");
    const big = await call("PATCH", `/api/v1/datasets/${id}`, { description: "x".repeat(100_000) });
    expect(big.status).toBe(413);
    const mirror = JSON.parse(readFileSync(path.join(ctx.config.root, "d/.mata/metadata.json"), "utf8"));
    expect(mirror.title).toBe("Sheep femur");
  });
});

describe("relations", () => {
  test("several parents; a cycle is refused naming the path; relatives are derived", async () => {
    const { ctx, call } = setup();
    const scan = addDataset(ctx, { path: "scan", title: "Scan" });
    const seg = addDataset(ctx, { path: "seg", title: "Segmentation" });
    const mesh = addDataset(ctx, { path: "mesh", title: "Mesh" });
    const other = addDataset(ctx, { path: "other", title: "Other" });
    expect((await call("PUT", `/api/v1/datasets/${seg}/parents`, { parents: [scan] })).status).toBe(200);
    expect((await call("PUT", `/api/v1/datasets/${mesh}/parents`, { parents: [seg, other] })).status).toBe(200);
    const sib = addDataset(ctx, { path: "sib", title: "Sibling" });
    await call("PUT", `/api/v1/datasets/${sib}/parents`, { parents: [other] });
    const r = await call("PUT", `/api/v1/datasets/${scan}/parents`, { parents: [mesh] });
    expect(r.status).toBe(409);
    expect(r.json.error.message).toBe(
      'Refused: that would make a cycle, since "Mesh" (mesh) is derived from this dataset: "Scan" (scan) → "Segmentation" (seg) → "Mesh" (mesh) → "Scan" (scan)',
    );
    expect((await call("PUT", `/api/v1/datasets/${scan}/parents`, { parents: [scan] })).status).toBe(409);
    expect((await call("PUT", `/api/v1/datasets/${scan}/parents`, { parents: [9999] })).status).toBe(400);
    const rel = getRelatives(ctx.db, mesh);
    expect(rel.parents.map((p) => p.title)).toEqual(["Segmentation", "Other"]);
    expect(rel.siblings.map((p) => p.title)).toEqual(["Sibling"]);
    expect(getRelatives(ctx.db, scan).children.map((p) => p.title)).toEqual(["Segmentation"]);
    const mirror = JSON.parse(readFileSync(path.join(ctx.config.root, "mesh/.mata/metadata.json"), "utf8"));
    expect(mirror.parents).toHaveLength(2);
    const pick = await call("GET", "/api/v1/relations/candidates?q=se");
    expect(pick.json.items.map((i: any) => i.title)).toEqual(["Segmentation"]);
  });
});

describe("dictionary", () => {
  test("keys and values ranked by datasets using them, case-insensitive, with typos; did-you-mean", async () => {
    const { ctx, call } = setup();
    const put = async (p: string, tags: TagNode[]) => call("PUT", `/api/v1/datasets/${addDataset(ctx, { path: p })}/tags`, { tags });
    await put("a", [t("Species", "sheep"), t("Specimen", "femur")]);
    await put("b", [t("Species", "sheep"), t("Scanner", "Skyscan")]);
    await put("c", [t("Species", "Human"), t("Patient", "", [t("Species", "sheep")])]);
    await put("d", [t("species", "human")]);
    const keys = async (prefix: string) => (await call("GET", `/api/v1/tags/suggest?prefix=${encodeURIComponent(prefix)}`)).json;
    expect((await keys("SPE")).items.map((i: any) => [i.term, i.datasets])).toEqual([
      ["Species", 3],
      ["Specimen", 1],
      ["species", 1],
    ]);
    const typo = await keys("Specis");
    expect(typo.items[0]).toEqual({ term: "Species", datasets: 3, match: "typo" });
    expect(typo.didYouMean).toBe("Species");
    expect((await keys("Speceis")).items[0].term).toBe("Species");
    expect((await keys("species")).didYouMean).toBe(null);
    expect((await keys("Scanner")).didYouMean).toBe(null);
    const values = (await call("GET", "/api/v1/tags/suggest?key=species&prefix=")).json;
    expect(values.items.map((i: any) => [i.term, i.datasets])).toEqual([
      ["sheep", 3],
      ["Human", 1],
      ["human", 1],
    ]);
    expect((await call("GET", "/api/v1/tags/suggest?key=Species&prefix=shep")).json.items[0].term).toBe("sheep");
    // Counts follow deletes.
    await call("PUT", `/api/v1/datasets/1/tags`, { tags: [] });
    expect((await keys("spe")).items.map((i: any) => [i.term, i.datasets])).toEqual([
      ["Species", 2],
      ["species", 1],
    ]);
  });
});
