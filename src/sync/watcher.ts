// The chokidar seam: watch the root, turn raw events into root-relative paths, return a close function.
import { watch } from "chokidar";
import path from "node:path";
import { log } from "../log.ts";
import { isWorkInProgress, SIDECAR_DIR } from "./walk.ts";

/** A raw change somewhere below the root: only a hint of where to look again. */
export interface WatchHint {
  event: "add" | "change" | "unlink" | "addDir" | "unlinkDir";
  /** Relative to the root, '/'-separated. */
  path: string;
}

/**
 * Watches `root` without following symlinks, ignoring dataset sidecars, hidden folders above the dataset level and
 * output still being written (`isWorkInProgress`);
 * resolves once the initial crawl is done with a function that stops watching. Errors are logged and passed to
 * `onError` (the engine's status tells a passing one from a broken watcher).
 */
export async function watchTree(
  root: string,
  depth: number,
  onHint: (hint: WatchHint) => void,
  onError: (error: unknown) => void = () => {},
): Promise<() => Promise<void>> {
  const ignored = (p: string) => {
    const rel = path.relative(root, p);
    if (rel === "" || rel.startsWith("..")) return false;
    const parts = rel.split(path.sep);
    for (let i = 0; i < Math.min(parts.length, depth); i++) if (parts[i]!.startsWith(".")) return true;
    return parts[depth] === SIDECAR_DIR || parts.slice(depth).some(isWorkInProgress);
  };
  const watcher = watch(root, { ignoreInitial: true, followSymlinks: false, ignorePermissionErrors: true, ignored, persistent: true });
  watcher.on("all", (event, p) => {
    const rel = path.relative(root, p).split(path.sep).join("/");
    if (rel.startsWith("..")) return;
    onHint({ event: event as WatchHint["event"], path: rel });
  });
  watcher.on("error", (e) => {
    log.warn("watcher error (the periodic reconcile covers what it misses)", { error: String(e) });
    onError(e);
  });
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return () => watcher.close();
}
