// Makes `new Worker(new URL("./x.worker.ts", import.meta.url))` work inside the compiled executable.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { BunPlugin } from "bun";

/** Where `bun build --compile` puts entrypoints: `/$bunfs/root/` plus the path below the build root. */
export const BUNFS_ROOT = "/$bunfs/root/";

/** Every `*.worker.ts` under `srcDir`, sorted, because each must be an extra entrypoint of the compiled build. */
export function findWorkerEntrypoints(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".worker.ts")) out.push(p);
    }
  };
  walk(srcDir);
  return out.sort();
}

// `new URL("./a/b.worker.ts", import.meta.url)` with single or double quotes, optional whitespace.
const WORKER_URL = /new\s+URL\(\s*(["'])(\.{1,2}\/[^"'\n]+?\.worker\.ts)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Rewrites worker URLs relative to a module into the worker's embedded path, since in the executable
 * every module's `import.meta.url` is the executable's, not the source file's.
 */
export function rewriteWorkerUrls(source: string, file: string, srcDir: string, workers: Set<string>): string {
  return source.replace(WORKER_URL, (_m, _q: string, rel: string) => {
    const target = path.resolve(path.dirname(file), rel);
    if (!workers.has(target)) {
      throw new Error(`${file}: worker ${rel} resolves to ${target}, which is not a *.worker.ts file under ${srcDir}`);
    }
    const embedded = BUNFS_ROOT + path.relative(srcDir, target).split(path.sep).join("/");
    return `new URL(${JSON.stringify("file://" + embedded)})`;
  });
}

/** The Bun.build plugin applying `rewriteWorkerUrls` to every source file under `srcDir` that names a worker. */
export function workerEntryPlugin(srcDir: string, workerFiles: string[]): BunPlugin {
  const workers = new Set(workerFiles.map((w) => path.resolve(w)));
  const prefix = path.resolve(srcDir) + path.sep;
  return {
    name: "mata-worker-entry",
    setup(build) {
      build.onLoad({ filter: /\.tsx?$/ }, (args) => {
        if (!args.path.startsWith(prefix) || !existsSync(args.path)) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes(".worker.ts")) return undefined;
        return { contents: rewriteWorkerUrls(text, args.path, path.resolve(srcDir), workers), loader: args.path.endsWith(".tsx") ? "tsx" : "ts" };
      });
    },
  };
}
