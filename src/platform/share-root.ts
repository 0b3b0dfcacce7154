// The share roots this process serves (each context registers its own), so code holding only an absolute path of a
// dataset (the sidecar writers) can still open it beneath its root, refusing a symlink at every place below it.
import path from "node:path";
import type { FsPath } from "./fs.ts";

const roots = new Set<string>();

/** Registers a share root (config `root`): absolute paths under it are opened beneath it from now on. */
export function registerShareRoot(root: string): void {
  roots.add(path.resolve(root));
}

/** The registered root an absolute path lies under, with the path below it (bytes), or null. */
export function underShareRoot(abs: FsPath): { root: string; rel: Buffer } | null {
  const bytes = typeof abs === "string" ? Buffer.from(abs, "utf8") : abs;
  for (const root of roots) {
    const prefix = Buffer.from(root.endsWith("/") ? root : `${root}/`, "utf8");
    if (bytes.length > prefix.length && bytes.subarray(0, prefix.length).equals(prefix)) return { root, rel: bytes.subarray(prefix.length) };
  }
  return null;
}
