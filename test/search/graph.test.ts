import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { testContext } from "../support/env.ts";
import { withUser, type TestUser } from "../support/auth.ts";
import { addDataset, relate, setTags, t } from "./fixtures.ts";

let ctx: ReturnType<typeof testContext>;
let app: ReturnType<typeof createApp>;
let admin: TestUser;
const graph = async (id: number, q = "") => {
  const res = await app.request(`/api/v1/datasets/${id}/graph${q}`, { headers: admin.headers });
  return { status: res.status, body: (await res.json()) as any };
};
const datasetIds = (g: any) =>
  g.nodes
    .filter((n: any) => n.kind === "dataset")
    .map((n: any) => n.datasetId)
    .sort((a: number, b: number) => a - b);

beforeEach(() => {
  ctx = testContext();
  app = createApp(ctx);
  admin = withUser(ctx, "admin", { admin: true });
});
afterEach(() => ctx.cleanup());

describe("relation network", () => {
  test("ancestors, descendants and their other relatives, with a diamond and a fusion of two parents", async () => {
    const db = ctx.db;
    const scan = addDataset(db, { title: "CT scan" });
    const spect = addDataset(db, { title: "SPECT" });
    const segA = addDataset(db, { title: "segmentation A" });
    const segB = addDataset(db, { title: "segmentation B" });
    const merged = addDataset(db, { title: "merged A+B" }); // diamond: scan -> A, B -> merged
    const fused = addDataset(db, { title: "SPECT/CT fusion" });
    const sibling = addDataset(db, { title: "SPECT follow-up" }); // relative: another child of SPECT
    const alone = addDataset(db, { title: "unrelated" });
    relate(db, segA, scan);
    relate(db, segB, scan);
    relate(db, merged, segA, segB);
    relate(db, fused, spect, merged);
    relate(db, sibling, spect);

    const { status, body } = await graph(segA);
    expect(status).toBe(200);
    expect(datasetIds(body)).toEqual([scan, spect, segA, segB, merged, fused, sibling].sort((a, b) => a - b));
    expect(body.nodes.find((n: any) => n.datasetId === alone)).toBeUndefined();
    const role = (id: number) => body.nodes.find((n: any) => n.datasetId === id).role;
    expect(role(segA)).toBe("self");
    expect(role(scan)).toBe("ancestor");
    expect(role(merged)).toBe("descendant");
    expect(role(fused)).toBe("descendant");
    expect(role(segB)).toBe("relative");
    expect(role(sibling)).toBe("relative");
    // Every relation among them once, parent -> child.
    expect(body.edges.length).toBe(7);
    expect(body.edges).toContainEqual({ from: `d${spect}`, to: `d${fused}`, kind: "derived" });
    expect(body.edges).toContainEqual({ from: `d${segB}`, to: `d${merged}`, kind: "derived" });
    expect(body.more).toBe(false);
    expect((await graph(alone)).body.nodes.length).toBe(1);
    expect((await graph(999999)).status).toBe(404);
  });

  test("the bound keeps lineage first and says there is more; show more grows it", async () => {
    const db = ctx.db;
    const root = addDataset(db, { title: "root" });
    const mid = addDataset(db, { title: "mid" });
    relate(db, mid, root);
    const leaf = addDataset(db, { title: "leaf" });
    relate(db, leaf, mid);
    for (let i = 0; i < 20; i++) relate(db, addDataset(db, { title: `other child ${i}` }), root);
    const small = (await graph(leaf, "?limit=5")).body;
    expect(datasetIds(small)).toEqual(expect.arrayContaining([root, mid, leaf]));
    expect(small.nodes.filter((n: any) => n.kind === "dataset").length).toBe(5);
    expect(small.more).toBe(true);
    const all = (await graph(leaf, "?limit=100")).body;
    expect(all.nodes.length).toBe(23);
    expect(all.more).toBe(false);
    expect((await graph(leaf, "?limit=10001")).status).toBe(400);
  });

  test("10,000 related datasets: bounded and fast, in a chain and in a wide lattice with many diamonds", async () => {
    const db = ctx.db;
    const ids: number[] = [];
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        const id = addDataset(db, { title: `n${i}` });
        ids.push(id);
        // Each one derived from the previous and from the one 100 before: a chain braided into diamonds.
        if (i > 0) relate(db, id, ids[i - 1]!);
        if (i >= 100) relate(db, id, ids[i - 100]!);
      }
    })();
    const mid = ids[5000]!;
    let t0 = performance.now();
    const first = (await graph(mid)).body;
    const firstMs = performance.now() - t0;
    expect(first.nodes.length).toBe(150);
    expect(first.more).toBe(true);
    expect(firstMs).toBeLessThan(500);
    t0 = performance.now();
    const whole = (await graph(mid, "?limit=10000")).body;
    const wholeMs = performance.now() - t0;
    expect(whole.nodes.length).toBe(10_000);
    expect(whole.more).toBe(false);
    expect(whole.edges.length).toBe(9_999 + 9_900);
    expect(wholeMs).toBeLessThan(1500);
  }, 30_000);

  test("tag overlay: equal subtrees are one shared node, near-equal ones share their equal children", async () => {
    const db = ctx.db;
    const a = addDataset(db, { title: "Sample_CT002" });
    const b = addDataset(db, { title: "test-Merge of twins CT" });
    const c = addDataset(db, { title: "Sample_CT001" });
    relate(db, b, a);
    relate(db, c, a);
    const patient = [t("Patient", "Alice", [t("Age", "61"), t("Sex", "f")])];
    setTags(db, a, patient);
    setTags(db, b, [t("Patient", "Alice", [t("Sex", "f"), t("Age", "61")])]);
    setTags(db, c, [t("Patient", "Alice", [t("Age", "61"), t("Sex", "f"), t("Species", "human")])]);
    const g = (await graph(a, "?tags=1")).body;
    const tags = g.nodes.filter((n: any) => n.kind === "tag");
    const patients = tags.filter((n: any) => n.key === "Patient");
    expect(patients.length).toBe(2);
    const shared = patients.find((n: any) => n.datasets === 2);
    expect(shared).toBeDefined();
    expect(g.edges).toContainEqual({ from: `d${a}`, to: shared.id, kind: "tag" });
    expect(g.edges).toContainEqual({ from: `d${b}`, to: shared.id, kind: "tag" });
    // Age=61 is one node, child of both Patient nodes: that pulls the near-equal patients together.
    const age = tags.filter((n: any) => n.key === "Age");
    expect(age.length).toBe(1);
    expect(g.edges.filter((e: any) => e.to === age[0].id).length).toBe(2);
    expect(g.tags).toEqual({ shown: true, truncated: false });
    expect((await graph(a)).body.nodes.every((n: any) => n.kind === "dataset")).toBe(true);
  });

  test("the full-size graph page includes the partial", async () => {
    const a = addDataset(ctx.db, { title: "CT <scan>" });
    const res = await app.request(`/datasets/${a}/graph`, { headers: admin.headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`data-graph-id="${a}"`);
    expect(html).toContain("/static/vendor/vis-network.min.js");
    expect(html).toContain("CT &lt;scan&gt;");
  });
});
