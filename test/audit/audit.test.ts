// The audit log: every committed metadata, relation and grant change with its values before and after (and no entry
// for a refused one), downloads (a ranged read once), sign-ins, refusals and blocks (a script's repeats once), who
// sees what, the filters, the CSV export and retention. Through the real routes over a real database and folders.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { accountsRepo } from "../../src/auth/auth.repo.ts";
import { configureAuth } from "../../src/auth/auth.runtime.ts";
import { hashPassword } from "../../src/auth/password.ts";
import { pruneAudit, type AuditItem } from "../../src/audit/audit.service.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { at, put } from "../sync/helpers.ts";

setDefaultTimeout(60_000);

const ctx = testContext();
afterAll(() => ctx.cleanup());
configureAuth(ctx, { failureFloorMs: 10 });
const app = createApp(ctx);
const admin = withUser(ctx, "boss", { admin: true });
const ann = withUser(ctx, "ann");
const bob = withUser(ctx, "bob");
withUser(ctx, "carl");

type Entry = AuditItem;

async function audit(
  headers: Record<string, string>,
  query = "",
): Promise<{ status: number; items: Entry[]; next: number | null; error?: { message: string } }> {
  const res = await app.request(`/api/v1/audit${query}`, { headers });
  return { status: res.status, ...((await res.json()) as { items: Entry[]; next: number | null }) };
}

const send = (method: string, url: string, user: { headers: Record<string, string> }, body: unknown) =>
  app.request(url, { method, headers: { ...user.headers, "Content-Type": "application/json" }, body: JSON.stringify(body) });

let scan = 0;
let other = 0;

test("setup: two datasets, one owned by ann, one by bob", async () => {
  put(ctx.config.root, "scan/volume.raw", "0123456789".repeat(100));
  put(ctx.config.root, "scan/notes.txt", "hello");
  put(ctx.config.root, "other/a.txt", "a");
  await reconcileAll(ctx);
  scan = at(ctx, "scan").id;
  other = at(ctx, "other").id;
  ctx.db.query("UPDATE datasets SET owner = 'ann' WHERE id = ?").run(scan);
  ctx.db.query("UPDATE datasets SET owner = 'bob' WHERE id = ?").run(other);
});

test("metadata, tag, relation and grant changes are recorded with the values before and after; refused ones are not", async () => {
  expect((await send("PATCH", `/api/v1/datasets/${scan}`, ann, { title: "Sheep femur" })).status).toBe(200);
  expect((await send("PATCH", `/api/v1/datasets/${scan}`, ann, { title: "Sheep femur, left", description: "micro-CT" })).status).toBe(200);
  // An edit on a stale version is refused with 409: nothing changed, nothing recorded.
  expect((await send("PATCH", `/api/v1/datasets/${scan}`, ann, { title: "stale", version: 1 })).status).toBe(409);

  const tags = (t: unknown) => send("PUT", `/api/v1/datasets/${scan}/tags`, ann, { tags: t });
  expect(
    (
      await tags([
        { key: "Scan", value: "", children: [{ key: "Voltage", value: "90", children: [] }] },
        { key: "Species", value: "sheep", children: [] },
      ])
    ).status,
  ).toBe(200);
  expect((await tags([{ key: "Scan", value: "", children: [{ key: "Voltage", value: "120", children: [] }] }])).status).toBe(200);

  expect((await send("PUT", `/api/v1/datasets/${scan}/parents`, ann, { parents: [other] })).status).toBe(200);
  // A cycle is refused: no entry.
  expect((await send("PUT", `/api/v1/datasets/${other}/parents`, bob, { parents: [scan] })).status).toBe(409);
  expect((await send("PUT", `/api/v1/datasets/${scan}/access`, ann, { viewers: ["bob"], editors: [] })).status).toBe(200);
  expect((await send("PUT", `/api/v1/datasets/${scan}/access`, ann, { viewers: ["carl"], editors: ["bob"] })).status).toBe(200);

  const { items } = await audit(ann.headers, `?dataset=${scan}`);
  const of = (action: string) => items.filter((i) => i.action === action).reverse();
  expect(items.every((i) => i.actor === "ann" && i.datasetId === scan && i.datasetPath === "scan")).toBe(true);
  expect(of("metadata.edit").map((i) => [i.before, i.after])).toEqual([
    [{ title: "" }, { title: "Sheep femur" }],
    [
      { title: "Sheep femur", description: "" },
      { title: "Sheep femur, left", description: "micro-CT" },
    ],
  ]);
  expect(of("tags.edit").map((i) => [i.before, i.after])).toEqual([
    [{}, { Scan: "", "Scan/Voltage": "90", Species: "sheep" }],
    [{ "Scan/Voltage": "90", Species: "sheep" }, { "Scan/Voltage": "120" }],
  ]);
  expect(of("relations.edit").map((i) => [i.before, i.after])).toEqual([[[], [{ id: other, path: "other" }]]]);
  expect(of("access.grants").map((i) => [i.before, i.after])).toEqual([
    [
      { viewers: [], editors: [] },
      { viewers: ["bob"], editors: [] },
    ],
    [
      { viewers: ["bob"], editors: [] },
      { viewers: ["carl"], editors: ["bob"] },
    ],
  ]);
  expect(items.some((i) => i.before && JSON.stringify(i.after).includes("stale"))).toBe(false);
  expect((await audit(bob.headers, `?dataset=${other}`)).items.filter((i) => i.action === "relations.edit")).toEqual([]);
});

test("an admin's owner reassignment is recorded with the owner and grants before and after", async () => {
  expect((await send("PUT", `/api/v1/datasets/${other}/owner`, admin, { owner: "carl" })).status).toBe(200);
  const [e] = (await audit(admin.headers, `?dataset=${other}&action=access.owner`)).items;
  expect(e).toMatchObject({ actor: "boss", before: { owner: "bob", viewers: [], editors: [] }, after: { owner: "carl", viewers: [], editors: [] } });
  ctx.db.query("UPDATE datasets SET owner = 'bob', owner_fixed = 0 WHERE id = ?").run(other);
});

test("a download is recorded once: a whole file, a range from its start; not a later range, a HEAD or a 304", async () => {
  const url = `/api/v1/datasets/${scan}/files/volume.raw`;
  const whole = await app.request(`${url}?download`, { headers: bob.headers });
  expect(whole.status).toBe(200);
  await whole.arrayBuffer();
  const etag = whole.headers.get("ETag")!;
  expect((await app.request(url, { headers: { ...bob.headers, Range: "bytes=0-99" } })).status).toBe(206);
  expect((await app.request(url, { headers: { ...bob.headers, Range: "bytes=100-199" } })).status).toBe(206);
  expect((await app.request(url, { method: "HEAD", headers: bob.headers })).status).toBe(200);
  expect((await app.request(url, { headers: { ...bob.headers, "If-None-Match": etag } })).status).toBe(304);
  // Refused reads (no permission) are not downloads.
  expect((await app.request(url, { headers: withUser(ctx, "dave").headers })).status).toBe(403);

  const downloads = (await audit(ann.headers, `?dataset=${scan}&action=file.download`)).items;
  expect(downloads.map((d) => [d.actor, d.target, d.detail])).toEqual([
    ["bob", "volume.raw", { range: "bytes=0-99" }],
    ["bob", "volume.raw", null],
  ]);
  expect(downloads[0]!.address).toBeTruthy();
});

test("sign-ins and refusals are recorded; a script's repeated Basic sign-ins once; a throttled guesser's blocks once", async () => {
  accountsRepo(ctx.db).add("erin", await hashPassword("erin-secret-1"), false, Date.now());
  const form = (password: string) =>
    app.request("/login", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "erin", password, next: "/" }).toString(),
    });
  expect((await form("erin-secret-1")).status).toBe(303);
  expect((await form("wrong")).status).toBe(401);
  const basic = { Authorization: `Basic ${btoa("erin:erin-secret-1")}` };
  for (let i = 0; i < 3; i++) expect((await app.request("/api/v1/datasets", { headers: basic })).status).toBe(200);
  // Wrong passwords for "frank" (no such account) until the throttle blocks, then more attempts.
  const guess = { Authorization: `Basic ${btoa("frank:guess")}` };
  const codes: number[] = [];
  for (let i = 0; i < 9; i++) codes.push((await app.request("/api/v1/datasets", { headers: guess })).status);
  expect(codes).toContain(429);

  const mine = (await audit(admin.headers, "?actor=erin")).items.reverse();
  expect(mine.map((i) => [i.action, i.target])).toEqual([
    ["signin", "form"],
    ["signin.failed", "form"],
    ["signin", "basic"],
  ]);
  expect(mine[1]!.detail).toEqual({ reason: "bad_credentials" });
  const frank = (await audit(admin.headers, "?actor=frank&action=signin")).items;
  expect(frank.filter((i) => i.action === "signin.blocked").length).toBe(1);
  expect(frank.filter((i) => i.action === "signin.failed").length).toBe(codes.filter((c) => c === 401).length);
});

test("owners see their datasets' history and their own sign-ins; other owners' datasets are refused; admins see all", async () => {
  const annAll = (await audit(ann.headers, "?limit=1000")).items;
  expect(annAll.length).toBeGreaterThan(0);
  expect(annAll.every((i) => i.datasetId === scan || (i.datasetId === null && i.actor === "ann"))).toBe(true);
  // Bob downloaded from ann's dataset: ann sees it, bob (not its owner) does not.
  expect(annAll.some((i) => i.action === "file.download" && i.actor === "bob")).toBe(true);
  const bobAll = (await audit(bob.headers, "?limit=1000")).items;
  expect(bobAll.some((i) => i.datasetId === scan)).toBe(false);
  const refused = await audit(bob.headers, `?dataset=${scan}`);
  expect(refused.status).toBe(403);
  expect(refused.error?.message).toContain("owner and admins");
  expect((await audit(bob.headers, "?dataset=99999")).status).toBe(404);
  // erin's sign-ins are hers and the admins'.
  expect((await audit(withUser(ctx, "erin").headers, "?action=signin")).items.length).toBeGreaterThan(0);
  expect((await audit(ann.headers, "?actor=erin")).items).toEqual([]);
  const everything = (await audit(admin.headers, "?limit=1000")).items;
  expect(everything.length).toBeGreaterThan(annAll.length);
  expect(new Set(everything.map((i) => i.datasetId))).toEqual(new Set([scan, other, null]));
});

test("filters by person, action group and time; pages with a cursor; a bad time is refused naming the parameter", async () => {
  const all = (await audit(admin.headers, "?limit=1000")).items;
  const byAnn = (await audit(admin.headers, "?actor=ann&limit=1000")).items;
  expect(byAnn.length).toBe(all.filter((i) => i.actor === "ann").length);
  const signins = (await audit(admin.headers, "?action=signin&limit=1000")).items;
  expect(new Set(signins.map((i) => i.action))).toEqual(new Set(["signin", "signin.failed", "signin.blocked"]));
  const today = new Date(ctx.clock.now()).toISOString().slice(0, 10);
  expect((await audit(admin.headers, `?from=${today}&to=${today}&limit=1000`)).items.length).toBe(all.length);
  expect((await audit(admin.headers, `?to=${today}T00:00:00Z`)).items).toEqual([]);
  expect((await audit(admin.headers, `?from=${ctx.clock.now() + 1000}`)).items).toEqual([]);

  const pages: Entry[] = [];
  let cursor: number | null = null;
  do {
    const page: Awaited<ReturnType<typeof audit>> = await audit(admin.headers, `?limit=3${cursor ? `&before=${cursor}` : ""}`);
    expect(page.items.length).toBeLessThanOrEqual(3);
    pages.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  expect(pages.map((i) => i.id)).toEqual(all.map((i) => i.id));

  const bad = await audit(admin.headers, "?from=last+tuesday");
  expect(bad.status).toBe(400);
  expect(bad.error?.message).toContain("from must be a date");
  expect((await audit(admin.headers, `?from=${today}&to=2000-01-01`)).status).toBe(400);
});

/** A CSV parser for the test (quoted cells, doubled quotes, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(cell), (cell = ""));
    else if (ch === "\r" && text[i + 1] === "\n") (row.push(cell), rows.push(row), (row = []), (cell = ""), i++);
    else cell += ch;
  }
  return rows;
}

test("the CSV export holds every matching entry, safe for spreadsheets, and is itself recorded", async () => {
  expect((await send("PATCH", `/api/v1/datasets/${scan}`, ann, { title: '=HYPERLINK("http://x","y"), "quoted"' })).status).toBe(200);
  const res = await app.request(`/api/v1/audit.csv?dataset=${scan}`, { headers: ann.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toContain("text/csv");
  expect(res.headers.get("Content-Disposition")).toMatch(/attachment; filename="mata-audit-\d{4}-\d\d-\d\d-dataset-\d+\.csv"/);
  const rows = parseCsv(await res.text());
  expect(rows[0]).toEqual(["id", "time_utc", "actor", "action", "dataset_id", "dataset_path", "target", "before", "after", "address", "detail"]);
  const json = (await audit(ann.headers, `?dataset=${scan}&limit=1000`)).items;
  // The export's own entry was written before the rows were read, so it is the first row.
  expect(rows[1]![3]).toBe("audit.export");
  expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(json.map((i) => i.id));
  const edit = rows.find((r) => r[3] === "metadata.edit" && r[8]!.includes("HYPERLINK"))!;
  expect(JSON.parse(edit[8]!)).toEqual({ title: '=HYPERLINK("http://x","y"), "quoted"' });
  expect(rows.every((r) => r.length === 11)).toBe(true);
  // A cell that starts like a formula (here a name tried at the sign-in form) is prefixed with an apostrophe, so a
  // spreadsheet shows it instead of running it.
  const name = "=SUM(1+1)*cmd|' /C calc'!A0";
  await app.request("/login", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ name, password: "x", next: "/" }).toString(),
  });
  const refused = parseCsv(
    await (await app.request(`/api/v1/audit.csv?action=signin.failed&actor=${encodeURIComponent(name)}`, { headers: admin.headers })).text(),
  );
  expect(refused.slice(1).map((r) => r[2])).toEqual([`'${name}`]);
  expect((await app.request(`/api/v1/audit.csv?dataset=${scan}`, { headers: bob.headers })).status).toBe(403);
});

test("the page shows the entries with filters and a CSV link; the dataset page links its owner to its history", async () => {
  const page = await (await app.request(`/audit?dataset=${scan}&action=tags.edit`, { headers: ann.headers })).text();
  expect(page).toContain("Audit log");
  expect(page).toContain('data-action="tags.edit"');
  expect(page).not.toContain('data-action="metadata.edit"');
  expect(page).toContain("Scan/Voltage");
  expect(page).toContain(`/api/v1/audit.csv?dataset=${scan}&amp;action=tags.edit`);
  const paged = await (await app.request(`/audit?limit=1`, { headers: admin.headers })).text();
  expect(paged).toMatch(/href="\/audit\?before=\d+&amp;limit=1" rel="next"/);
  const own = await (await app.request(`/datasets/${scan}`, { headers: ann.headers })).text();
  expect(own).toContain(`href="/audit?dataset=${scan}"`);
  const viewer = await (await app.request(`/datasets/${scan}`, { headers: withUser(ctx, "carl").headers })).text();
  expect(viewer).not.toContain(`href="/audit?dataset=${scan}"`);
  expect((await app.request("/audit?from=nonsense", { headers: ann.headers })).status).toBe(400);
});

test("retention removes entries older than [audit] keep and nothing newer; keep is validated", async () => {
  const before = (await audit(admin.headers, "?limit=1000")).items.length;
  const old = ctx.clock.now() - 400 * 86_400_000;
  ctx.db.query("UPDATE audit_log SET at = ? WHERE id IN (SELECT id FROM audit_log ORDER BY id LIMIT 3)").run(old);
  expect(ctx.config.auditKeepMs).toBe(365 * 86_400_000);
  expect(await pruneAudit(ctx)).toBe(3);
  expect((await audit(admin.headers, "?limit=1000")).items.length).toBe(before - 3);

  const dirs = { root: ctx.config.root, state: ctx.config.state };
  expect(loadConfig(dirs, { MATA_AUDIT_KEEP: "forever" }).auditKeepMs).toBeNull();
  expect(loadConfig(dirs, { MATA_AUDIT_KEEP: "90d" }).auditKeepMs).toBe(90 * 86_400_000);
  expect(() => loadConfig(dirs, { MATA_AUDIT_KEEP: "five weeks" })).toThrow(ConfigError);
  expect(() => loadConfig(dirs, { MATA_AUDIT_KEEP: "five weeks" })).toThrow(/MATA_AUDIT_KEEP must be a duration/);
});
