// No two feature folders import each other: each folder's dependencies point one way, so a feature can be read,
// changed and tested with what it uses, never with what uses it.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const SRC = path.join(import.meta.dir, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

test("no folder loops between the feature folders of src/", () => {
  const uses = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(SRC, file).split(path.sep);
    if (from.length < 2) continue; // top-level composition files (app.ts, services.ts, main.ts) may use everything
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gm)) {
      const to = path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).split(path.sep);
      if (to.length < 2 || to[0] === from[0] || to[0] === "..") continue;
      if (!uses.has(from[0]!)) uses.set(from[0]!, new Map());
      uses.get(from[0]!)!.set(to[0]!, path.relative(SRC, file));
    }
  }
  const loops: string[] = [];
  for (const [a, targets] of uses)
    for (const [b, via] of targets) if (a < b && uses.get(b)?.has(a)) loops.push(`${a} <-> ${b} (${via}, ${uses.get(b)!.get(a)})`);
  expect(loops).toEqual([]);
});
