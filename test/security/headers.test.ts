// Security headers on every answer: pages, htmx fragments, JSON, files, static assets, errors and redirects,
// checked over a real socket. The policy allows no inline script and no eval (script-src from templates/layout.tsx).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { SCRIPT_SRC } from "../../templates/layout.tsx";
import { withUser } from "../support/auth.ts";
import { serveApp } from "../support/browser.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";

const ctx = testContext();
let server: { url: string; stop: () => void };
let id = 0;
let headers: Record<string, string> = {};

beforeAll(() => {
  id = putDataset(ctx, "scan", { "notes.txt": "<script>alert(1)</script>", "a.html": "<html><script>alert(1)</script></html>" }, { owner: "ann" });
  headers = withUser(ctx, "ann").headers;
  server = serveApp(createApp(ctx));
});
afterAll(() => {
  server.stop();
  ctx.cleanup();
});

/** The directives of a policy, by name. */
function directives(csp: string): Record<string, string[]> {
  return Object.fromEntries(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

function expectHeaders(res: Response, what: string) {
  const csp = res.headers.get("Content-Security-Policy");
  expect({ what, csp: csp !== null }).toEqual({ what, csp: true });
  const d = directives(csp!);
  expect(d["default-src"]).toEqual(["'self'"]);
  expect(d["script-src"]!.join(" ")).toBe(SCRIPT_SRC);
  expect(d["script-src"]).not.toContain("'unsafe-inline'");
  expect(d["script-src"]).not.toContain("'unsafe-eval'");
  expect(d["object-src"]).toEqual(["'none'"]);
  expect(d["base-uri"]).toEqual(["'none'"]);
  expect(d["frame-ancestors"]).toEqual(["'none'"]);
  expect(d["form-action"]).toEqual(["'self'"]);
  expect(d["img-src"]).toEqual(["'self'", "data:", "blob:"]);
  expect({ what, xfo: res.headers.get("X-Frame-Options") }).toEqual({ what, xfo: "DENY" });
  expect({ what, rp: res.headers.get("Referrer-Policy") }).toEqual({ what, rp: "same-origin" });
  expect({ what, nosniff: res.headers.get("X-Content-Type-Options") }).toEqual({ what, nosniff: "nosniff" });
}

test("pages, fragments, JSON, file downloads, static assets, errors and redirects all carry the headers", async () => {
  const cases: [string, RequestInit, number][] = [
    ["/login", {}, 200],
    ["/api/v1/health", {}, 200],
    ["/static/app.css", {}, 200],
    ["/static/app.js", {}, 200],
    ["/", { headers }, 200],
    [`/datasets/${id}`, { headers }, 200],
    [`/datasets/${id}/sharing`, { headers: { ...headers, "HX-Request": "true" } }, 200],
    ["/api/v1/datasets", { headers }, 200],
    [`/api/v1/datasets/${id}/files/notes.txt`, { headers }, 200],
    [`/api/v1/datasets/${id}/files/a.html`, { headers }, 200],
    ["/api/docs", { headers }, 200],
    ["/api/v1/openapi.json", { headers }, 200],
    ["/api/v1/datasets", {}, 401],
    ["/account", {}, 302],
    ["/no-such-page", { headers }, 404],
    ["/static/no-such.js", {}, 404],
    ["/api/v1/datasets/999999", { headers }, 404],
    [`/api/v1/datasets/${id}`, { method: "PATCH", headers: { ...headers, "Content-Type": "text/plain" }, body: "x" }, 415],
  ];
  for (const [url, init, status] of cases) {
    const res = await fetch(server.url + url, { redirect: "manual", ...init });
    await res.arrayBuffer();
    expect({ url, status: res.status }).toEqual({ url, status });
    expectHeaders(res, url);
  }
});

test("a dataset's HTML file is served with the policy and nosniff, so its script cannot run as Mata's page", async () => {
  const res = await fetch(`${server.url}/api/v1/datasets/${id}/files/a.html`, { headers });
  expect(res.status).toBe(200);
  expect(directives(res.headers.get("Content-Security-Policy")!)["script-src"]).not.toContain("'unsafe-inline'");
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
});

test("templates use style attributes, so style-src needs 'unsafe-inline' (the one relaxation); script-src never does", async () => {
  const res = await fetch(`${server.url}/datasets/${id}`, { headers });
  const html = await res.text();
  expect(html).not.toMatch(/<script(?![^>]*(\bsrc=|type="importmap"))[^>]*>/);
  expect(html).toContain('style="height:');
  expect(html).not.toMatch(/\son[a-z]+="/);
  expect(directives(res.headers.get("Content-Security-Policy")!)["style-src"]).toEqual(["'self'", "'unsafe-inline'"]);
});
