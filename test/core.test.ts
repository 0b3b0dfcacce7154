import { describe, expect, test, afterEach } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createApp } from "../src/app.ts";
import { loadConfig, ConfigError } from "../src/config.ts";
import { openDatabase, migrate } from "../src/db/database.ts";
import { main } from "../src/main.ts";
import { testContext, tempDir } from "./support/env.ts";
import { withUser } from "./support/auth.ts";
import { signedIn } from "./support/client.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

describe("configuration", () => {
  test("flags beat env, env beats the file, the file beats defaults", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, "mata.toml");
    writeFileSync(file, 'root = "/from-file"\nlisten = "0.0.0.0:9000"\ndepth = 2\n');
    const c = loadConfig({ config: file, root: "/from-flag" }, { MATA_LISTEN: "127.0.0.2:7000" }, dir);
    expect(c.root).toBe("/from-flag");
    expect(c.host).toBe("127.0.0.2");
    expect(c.port).toBe(7000);
    expect(c.depth).toBe(2);
    expect(c.demo).toBe(false);
  });

  test("no root anywhere means the demo root under ./mata-data on 127.0.0.1:8080", () => {
    const c = loadConfig({}, {}, "/x");
    expect(c).toMatchObject({ root: "/x/mata-data/root", state: "/x/mata-data/state", host: "127.0.0.1", port: 8080, depth: 1, demo: true });
  });

  test("a bad setting is named with where it came from", () => {
    expect(() => loadConfig({ depth: "zero" }, {})).toThrow(/--depth: expected a whole number from 1 to 8/);
    expect(() => loadConfig({}, { MATA_LISTEN: "nonsense" })).toThrow(/MATA_LISTEN: listen must be HOST:PORT/);
    expect(() => loadConfig({ auth: "ldap" }, {})).toThrow(ConfigError);
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    writeFileSync(path.join(dir, "bad.toml"), "root = [unclosed");
    expect(() => loadConfig({ config: "bad.toml" }, {}, dir)).toThrow(/not valid TOML/);
    writeFileSync(path.join(dir, "r.toml"), '[[rules]]\nglob = "*.tif"\n');
    expect(() => loadConfig({ config: "r.toml" }, {}, dir)).toThrow(/rules\[0\] needs exactly one of action/);
  });

  test("metrics_token: from the file or MATA_METRICS_TOKEN, at least 16 characters, unset by default", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    writeFileSync(path.join(dir, "m.toml"), 'metrics_token = "from-the-file-0123456789"\n');
    expect(loadConfig({ config: "m.toml" }, {}, dir).metricsToken).toBe("from-the-file-0123456789");
    expect(loadConfig({ config: "m.toml" }, { MATA_METRICS_TOKEN: "from-the-env-0123456789" }, dir).metricsToken).toBe("from-the-env-0123456789");
    expect(loadConfig({}, {}).metricsToken).toBeUndefined();
    expect(() => loadConfig({}, { MATA_METRICS_TOKEN: "short" })).toThrow(/MATA_METRICS_TOKEN: expected a secret of at least 16 characters/);
  });
});

describe("store", () => {
  test("WAL, foreign keys and migrations applied once", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const db = openDatabase(path.join(dir, "m.db"));
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
    expect(migrate(db)).toEqual([]);
    db.close();
  });
});

describe("http", () => {
  test("health is open and reports the version", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const res = await createApp(ctx).request("/api/v1/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, version: expect.any(String) });
  });

  test("unknown API routes answer JSON errors", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const res = await signedIn(createApp(ctx), withUser(ctx, "reader")).request("/api/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "Nothing at /api/v1/nothing-here" } });
  });

  test("openapi.json lists every /api/v1 route the app has", async () => {
    const ctx = testContext();
    cleanups.push(ctx.cleanup);
    const app = createApp(ctx);
    const doc = (await (await signedIn(app, withUser(ctx, "reader")).request("/api/v1/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { summary: string }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/v1/health"]?.get?.summary).toContain("version");
    expect(doc.paths["/api/v1/datasets/{id}/files/{path}"]?.get?.summary).toContain("Range");
    for (const r of app.routes.filter((r) => r.path.startsWith("/api/v1/") && r.method !== "ALL")) {
      const p = r.path.replace(/:(\w+)(\{[^/]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");
      expect(doc.paths[p]?.[r.method.toLowerCase()]?.summary).not.toBe("(undocumented)");
    }
  });
});

describe("cli", () => {
  test("--help lists commands, unknown commands exit 2", async () => {
    expect(await main(["--help"])).toBe(0);
    expect(await main(["frobnicate"])).toBe(2);
    expect(await main(["serve", "--no-such-flag"])).toBe(2);
  });
});
