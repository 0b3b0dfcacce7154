// /metrics of a real `mata serve` on 127.0.0.1: Prometheus text format 0.0.4 that parses line by line, counters that
// grow with requests under the route pattern (never the raw path), and access for admins or the metrics token only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startLiveServer, type LiveServer } from "../support/live-server.ts";

const METRICS_TOKEN = "scrape-secret-0123456789abcdef";
let live: LiveServer;

beforeAll(async () => {
  live = await startLiveServer({ "scan-a": { "a.txt": "a" }, "scan-b": { "b.txt": "b" } }, { env: { MATA_METRICS_TOKEN: METRICS_TOKEN } });
}, 60_000);
afterAll(() => live?.stop());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format strictly: every line is a HELP, a TYPE or a sample of a family typed before it. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
  const sampleLine = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (-?[0-9.eE+-]+|\\+Inf|-Inf|NaN)$`);
  for (const line of text.slice(0, -1).split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      expect(helped.has(m[1]!)).toBe(false);
      helped.add(m[1]!);
    } else if ((m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      expect(types.has(m[1]!)).toBe(false);
      types.set(m[1]!, m[2]!);
    } else if ((m = sampleLine.exec(line))) {
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? "").matchAll(new RegExp(LABEL, "g"))) labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
      const name = m[1]!;
      const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
      expect({ line, typed: types.has(family) }).toEqual({ line, typed: true });
      if (family !== name) expect(types.get(family)).toBe("histogram");
      const key = `${name}${JSON.stringify(labels)}`;
      expect({ line, duplicate: seen.has(key) }).toEqual({ line, duplicate: false });
      seen.add(key);
      samples.push({ name, labels, value: Number(m[m.length - 1]!.replace("+Inf", "Infinity")) });
    } else throw new Error(`not a line of the exposition format: ${JSON.stringify(line)}`);
  }
  return { types, samples };
}

async function scrape(): Promise<{ types: Map<string, string>; samples: Sample[] }> {
  const res = await fetch(`${live.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

test("the exposition parses; request counters grow under the route pattern; histograms are cumulative", async () => {
  const first = await scrape();
  expect(first.types.get("mata_http_requests_total")).toBe("counter");
  expect(first.types.get("mata_http_request_duration_seconds")).toBe("histogram");
  expect(first.types.get("mata_jobs")).toBe("gauge");
  expect(first.types.get("mata_reconcile_duration_seconds")).toBe("histogram");
  expect(first.types.get("mata_watcher_events_total")).toBe("counter");
  expect(first.types.get("mata_disk_free_bytes")).toBe("gauge");
  expect(first.types.get("process_resident_memory_bytes")).toBe("gauge");
  const pattern = { route: "/api/v1/datasets/:id", method: "GET", status: "200" };
  const before = value(first.samples, "mata_http_requests_total", pattern) ?? 0;
  const anonBefore = value(first.samples, "mata_http_requests_total", { route: "/api/v1/datasets", status: "401" }) ?? 0;

  const auth = { Authorization: `Bearer ${live.admin.token}` };
  for (const id of [live.ids["scan-a"], live.ids["scan-b"], live.ids["scan-a"]])
    expect((await fetch(`${live.url}/api/v1/datasets/${id}`, { headers: auth })).status).toBe(200);
  expect((await fetch(`${live.url}/api/v1/datasets`)).status).toBe(401);
  expect((await fetch(`${live.url}/api/v1/no-such-route-${Date.now()}`, { headers: auth })).status).toBe(404);

  const second = await scrape();
  expect(value(second.samples, "mata_http_requests_total", pattern)).toBe(before + 3);
  // A refusal before sign-in is counted under the route it was for.
  expect(value(second.samples, "mata_http_requests_total", { route: "/api/v1/datasets", method: "GET", status: "401" })).toBe(anonBefore + 1);
  // Raw paths never become labels: ids and unknown paths are folded into patterns.
  const routes = new Set(second.samples.filter((s) => s.labels.route !== undefined).map((s) => s.labels.route!));
  expect([...routes].filter((r) => /\/\d+(\/|$)|no-such-route/.test(r))).toEqual([]);
  expect(routes.has("(unmatched)")).toBe(true);

  // Every histogram: buckets cumulative in increasing `le`, ending with +Inf equal to _count.
  for (const [family, type] of second.types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const s of second.samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), { ...s, value: s.value, labels: { ...s.labels, le: le! } }]);
    }
    for (const [key, buckets] of series) {
      const les = buckets.map((b) => Number(b.labels.le!.replace("+Inf", "Infinity")));
      expect(les).toEqual([...les].sort((a, b) => a - b));
      expect(les.at(-1)).toBe(Infinity);
      const counts = buckets.map((b) => b.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(value(second.samples, `${family}_count`, JSON.parse(key)));
    }
  }
  const detail = value(second.samples, "mata_http_request_duration_seconds_count", { route: "/api/v1/datasets/:id" });
  expect(detail).toBeGreaterThanOrEqual(3);

  // Gauges of the moment: the free space of both disks, the process's memory, the reconcile at start.
  expect(value(second.samples, "mata_disk_free_bytes", { volume: "state" })).toBeGreaterThan(0);
  expect(value(second.samples, "mata_disk_free_bytes", { volume: "root" })).toBeGreaterThan(0);
  expect(value(second.samples, "process_resident_memory_bytes", {})).toBeGreaterThan(10 * 1024 * 1024);
  expect(value(second.samples, "mata_reconcile_duration_seconds_count", { scope: "full" })).toBeGreaterThanOrEqual(1);
  expect(value(second.samples, "mata_watcher_up", {})).toBe(1);
}, 60_000);

test("the watcher's events are counted", async () => {
  const count = async () => value((await scrape()).samples, "mata_watcher_events_total", { event: "add" }) ?? 0;
  const before = await count();
  await Bun.write(`${live.root}/scan-a/new.txt`, "new");
  for (let i = 0; i < 100 && (await count()) <= before; i++) await Bun.sleep(50);
  expect(await count()).toBeGreaterThan(before);
}, 30_000);

test("who may scrape: admins and the metrics token; not other accounts, anonymous or a wrong token; the token opens nothing else", async () => {
  const get = (headers: Record<string, string> = {}) => fetch(`${live.url}/metrics`, { headers, redirect: "manual" });
  expect((await get({ Authorization: `Bearer ${live.admin.token}` })).status).toBe(200);
  expect((await get({ Authorization: `Basic ${btoa(`${live.admin.name}:${live.admin.password}`)}` })).status).toBe(200);
  expect((await get({ Authorization: `Bearer ${live.user.token}` })).status).toBe(403);
  // Not signed in (or a wrong token): 401 with a challenge, as a scraper expects, never the sign-in page.
  for (const headers of [{} as Record<string, string>, { Authorization: `Bearer ${METRICS_TOKEN}x` }, { Authorization: `Bearer ${METRICS_TOKEN.slice(1)}` }]) {
    const res = await get(headers);
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain("Basic");
    expect(await res.text()).not.toContain("mata_http_requests_total");
  }
  expect((await fetch(`${live.url}/api/v1/datasets`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
  expect((await fetch(`${live.url}/api/v1/jobs`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
}, 30_000);
