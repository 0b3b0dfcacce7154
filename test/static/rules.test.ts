// The browser code's ground rules (static/README.md): every module is embedded with what it imports, and the
// templates carry no inline script, so a Content-Security-Policy of `script-src 'self'` plus the import map's hash holds.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ASSETS } from "../../src/web/assets.ts";
import { Layout, SCRIPT_SRC } from "../../templates/layout.tsx";

const PROJECT = path.resolve(import.meta.dir, "../..");

/** The lines of source that match re, so a failure names them. */
const linesMatching = (source: string, re: RegExp) => source.split("\n").filter((line) => re.test(line));

/** Files under a project folder whose names match, as paths relative to that folder. */
const filesUnder = (dir: string, name: RegExp) =>
  readdirSync(path.join(PROJECT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => name.test(f))
    .sort();

/** The URL path under /static/ a module's import names, as the browser resolves it (bare names through the import map). */
function importedAsset(from: string, specifier: string): string {
  if (specifier === "three") return "vendor/three.module.js";
  if (specifier.startsWith("three/addons/")) return "vendor/" + specifier;
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
}

describe("static modules", () => {
  const modules = filesUnder("static", /\.js$/);

  test("every module under static/ is embedded at its own path, byte for byte", () => {
    expect(modules.length).toBeGreaterThan(5);
    for (const rel of modules) {
      const file = ASSETS[rel];
      expect(file, rel).toBeDefined();
      expect(readFileSync(file!).equals(readFileSync(path.join(PROJECT, "static", rel))), rel).toBe(true);
    }
  });

  test("every module is an ES module whose imports are embedded too, and none sets a global of its own", () => {
    for (const rel of modules) {
      const source = readFileSync(path.join(PROJECT, "static", rel), "utf8");
      for (const m of source.matchAll(/^import\s+(?:[^"']*\s+from\s+)?["']([^"']+)["']/gm)) {
        expect(ASSETS[importedAsset(rel, m[1]!)], `${rel} imports ${m[1]}`).toBeDefined();
      }
      expect(linesMatching(source, /\bwindow\.[A-Z]\w*\s*=|^\(function\s*\(|^\(\(\)\s*=>/), rel).toEqual([]);
    }
  });
});

describe("templates", () => {
  const templates = filesUnder("templates", /\.tsx?$/);

  test("no inline script: scripts come from src, no on* handlers, no hx-on, no javascript: URLs", () => {
    expect(templates.length).toBeGreaterThan(5);
    for (const rel of templates) {
      const source = readFileSync(path.join(PROJECT, "templates", rel), "utf8");
      for (const tag of source.match(/<script\b[^>]*>/g) ?? []) {
        if (!tag.includes('type="importmap"')) expect(tag, rel).toMatch(/\ssrc="\/static\//);
      }
      expect(linesMatching(source, /\son[a-z]+\s*=|\bhx-on\b|javascript:/i), rel).toEqual([]);
    }
  });

  test("the page's one inline script is the import map, allowed by its hash in SCRIPT_SRC", async () => {
    const html = String(await Layout({ title: "t" }));
    const inline = [...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)].filter((m) => !/\ssrc=/.test(m[1]!));
    expect(inline.map((m) => m[1])).toEqual([' type="importmap"']);
    const hash = createHash("sha256").update(inline[0]![2]!).digest("base64");
    expect(SCRIPT_SRC).toContain(` 'sha256-${hash}' `);
  });
});
