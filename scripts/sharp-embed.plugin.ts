// Embeds sharp's native addon and libvips in the compiled executable (sharp loads them with createRequire,
// which `bun build --compile` cannot follow; lovell/sharp#4283, oven-sh/bun#15374).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { BunPlugin } from "bun";

/** The two native files sharp needs, found in the installed packages at build time (never hard-coded versions). */
export interface SharpNativeFiles {
  /** e.g. linux-x64 */
  platform: string;
  sharpVersion: string;
  vipsVersion: string;
  addon: { abs: string; rel: string };
  libvips: { abs: string; rel: string };
  /** Cache folder name: versions plus a content hash, so a changed file never reuses an old extraction. */
  key: string;
}

/** Finds the installed addon and libvips, failing with the npm command that fixes a missing one. */
export function resolveSharpNativeFiles(projectDir: string): SharpNativeFiles {
  const requireFromProject = createRequire(path.join(projectDir, "package.json"));
  const sharpPkgFile = requireFromProject.resolve("sharp/package.json");
  const sharpVersion = JSON.parse(readFileSync(sharpPkgFile, "utf8")).version as string;
  const platform = `${process.platform}-${process.arch}`;
  const fromSharp = createRequire(sharpPkgFile);
  const addonPkg = resolvePackageDir(fromSharp, `@img/sharp-${platform}`);
  const addonLib = path.join(addonPkg, "lib");
  const nodes = readdirSync(addonLib).filter((f) => f.endsWith(".node"));
  if (nodes.length !== 1) throw new Error(`expected exactly one .node addon in ${addonLib}, found ${nodes.length}: ${nodes.join(", ")}`);
  const addonAbs = path.join(addonLib, nodes[0]!);

  const vipsPkg = resolvePackageDir(createRequire(path.join(addonPkg, "package.json")), `@img/sharp-libvips-${platform}`);
  const vipsPkgJson = JSON.parse(readFileSync(path.join(vipsPkg, "package.json"), "utf8"));
  const binary = vipsPkgJson.exports?.["./binary"] as string | undefined;
  if (!binary) throw new Error(`${vipsPkg}/package.json has no "./binary" export naming libvips`);
  const vipsAbs = path.join(vipsPkg, binary);
  statSync(vipsAbs);
  const vipsVersion = /\.so\.(\d+\.\d+\.\d+)$/.exec(vipsAbs)?.[1] ?? vipsPkgJson.version;

  const hash = createHash("sha256");
  for (const f of [addonAbs, vipsAbs]) hash.update(readFileSync(f));
  // The addon's RPATH is $ORIGIN/../../sharp-libvips-<platform>/lib, so the cache keeps node_modules' @img layout.
  const rel = (abs: string, pkgDir: string) => path.posix.join("@img", path.basename(pkgDir), path.relative(pkgDir, abs).split(path.sep).join("/"));
  return {
    platform,
    sharpVersion,
    vipsVersion,
    addon: { abs: addonAbs, rel: rel(addonAbs, addonPkg) },
    libvips: { abs: vipsAbs, rel: rel(vipsAbs, vipsPkg) },
    key: `sharp-${sharpVersion}-vips-${vipsVersion}-${hash.digest("hex").slice(0, 12)}`,
  };
}

function resolvePackageDir(req: NodeJS.Require, name: string): string {
  try {
    return path.dirname(req.resolve(`${name}/package`));
  } catch {
    throw new Error(`sharp's prebuilt package ${name} is not installed; run: npm install --include=optional sharp`);
  }
}

/** The module that replaces sharp's `./sharp.mjs` loader: embedded files in, the loaded addon out. */
export function embeddedLoaderSource(files: SharpNativeFiles, runtimeModule: string): string {
  return [
    `import addon from ${JSON.stringify(files.addon.abs)} with { type: "file" };`,
    `import libvips from ${JSON.stringify(files.libvips.abs)} with { type: "file" };`,
    `import { loadEmbeddedAddon } from ${JSON.stringify(runtimeModule)};`,
    `const native = loadEmbeddedAddon(${JSON.stringify({ key: files.key, addonRel: files.addon.rel, libvipsRel: files.libvips.rel })}, addon, libvips);`,
    `export { native as default, native as "module.exports" };`,
  ].join("\n");
}

/** The Bun.build plugin redirecting sharp's loader (ESM and CJS) to the embedded one. */
export function sharpEmbedPlugin(files: SharpNativeFiles, runtimeModule: string): BunPlugin {
  const distMarker = `${path.sep}sharp${path.sep}dist${path.sep}`;
  return {
    name: "mata-sharp-embed",
    setup(build) {
      build.onResolve({ filter: /^\.\/sharp\.(mjs|cjs)$/ }, (args) =>
        args.importer.includes(distMarker) ? { path: "sharp-native", namespace: "mata-sharp" } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "mata-sharp" }, () => ({ contents: embeddedLoaderSource(files, runtimeModule), loader: "js" }));
    },
  };
}
