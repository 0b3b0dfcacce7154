// The OME-Zarr export child: reads one volume slice by slice beneath the share root and writes
// `derived/<name>.ome.zarr` of its dataset folder, into a hidden temp folder that then takes the final name in one
// rename. It runs as its own process (low priority, as the dataset's owner when Mata is root), so a cancel is a SIGKILL.
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { libc, cString, errnoError } from "../platform/libc.ts";
import { openShareFile, registerShareRoot } from "../platform/share-root.ts";
import { peakRss, readSpecLine } from "../platform/child-io.ts";
import { detectVolumes } from "../preview/readers/index.ts";
import { DTYPE_BYTES } from "../preview/readers/reader.types.ts";
import { openablePath } from "../sync/names.ts";
import { GzipPool } from "./gzip.pool.ts";
import { inFlightBudget, multiscalesAttrs, OmeZarrWriter, planLevels, type ZarrSink } from "./zarr.writer.ts";

/** The environment marker that makes the `mata` executable (or `bun src/main.ts`) act as an export child. */
export const EXPORT_CHILD_ENV = "MATA_EXPORT_CHILD";

/** Set (to the spec, as JSON) for a child that only removes a killed export's temp folder, as its dataset's owner. */
export const EXPORT_CLEANUP_ENV = "MATA_EXPORT_CLEANUP";

/** The folder inside a dataset that exports go to. */
export const DERIVED_DIR = "derived";

/** Hidden temp folders of exports in progress start with this (the sync engine leaves them alone: src/sync/walk.ts). */
export const TEMP_PREFIX = ".mata-tmp-";

/** The temp folder an export job writes `name` into before it takes its name. */
export function exportTempName(name: string, job: number): string {
  return `${TEMP_PREFIX}${name}-${job}`;
}

/** What the parent asks for: one volume of a dataset, written as `derived/<name>` through the temp `derived/<tmpName>`. */
export interface ExportSpec {
  shareRoot: string;
  /** The dataset folder, absolute, in stored form (src/sync/names.ts). */
  datasetPath: string;
  /** The file naming the volume (VolumeSource.file) and every file it reads, relative to the dataset folder. */
  file: string;
  files: string[];
  /** The output folder's name (`<volume>.ome.zarr`) and its temp name (hidden, see `isWorkInProgress`). */
  name: string;
  tmpName: string;
  /** Memory for one level-0 slab (tests make it small to see the z chunk shrink). */
  slabBudget?: number;
}

/** What the child reports, one JSON object per line on stdout. */
export type ExportMessage =
  | { type: "progress"; fraction: number }
  | { type: "done"; levels: number; bytes: number; shape: [number, number, number]; dtype: string; maxRss: number }
  | { type: "error"; message: string; maxRss: number };

const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
/** A store's file is always new: created here or refused (a name already there, a symlink put in its place). */
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW | O_CLOEXEC;
const RENAME_EXCHANGE = 2;
const GC_BYTES = 32 * 1024 * 1024;

function send(m: ExportMessage): void {
  process.stdout.write(JSON.stringify(m) + "\n");
}

/**
 * The dataset's `derived/` folder, opened through descriptors beneath the root: made when missing, and refused when it
 * is a symlink (or a file), so an export never writes where a share user pointed it.
 */
export function openDerived(spec: Pick<ExportSpec, "datasetPath">, create: boolean): number {
  const dsFd = openShareFile(openablePath(spec.datasetPath), constants.O_DIRECTORY);
  try {
    const at = `/proc/self/fd/${dsFd}/${DERIVED_DIR}`;
    if (create) {
      try {
        mkdirSync(at, { mode: 0o775 });
        // A new derived/ is an entry of the dataset folder: durable before anything is published in it.
        fsyncSync(dsFd);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    try {
      return openSyncDir(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP" || code === "ENOTDIR")
        throw new Error(`${DERIVED_DIR} in the dataset folder is not a folder (a symlink or a file): nothing was written`);
      throw e;
    }
  } finally {
    closeSync(dsFd);
  }
}

/** A folder's descriptor, refusing a symlink as its last name; read-only is enough to write beneath it through /proc. */
function openSyncDir(p: string): number {
  return openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/** Removes the temp folder of an export beneath the root (after a kill, or a failure); a missing one is fine. */
export function removeTemp(spec: Pick<ExportSpec, "datasetPath" | "tmpName">): void {
  let fd: number;
  try {
    fd = openDerived(spec, false);
  } catch {
    return;
  }
  try {
    rmSync(`/proc/self/fd/${fd}/${spec.tmpName}`, { recursive: true, force: true });
  } finally {
    closeSync(fd);
  }
}

/**
 * Puts the finished temp folder in place under its name: an existing export swaps with it in one step
 * (renameat2 RENAME_EXCHANGE) and is then removed, so a reader sees the old or the new one, never neither.
 */
function replace(derivedFd: number, tmpName: string, name: string): void {
  const base = `/proc/self/fd/${derivedFd}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      renameSync(`${base}/${tmpName}`, `${base}/${name}`);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EISDIR" && code !== "ENOTDIR") throw e;
    }
    const sys = libc();
    if (sys) {
      if (sys.renameat2(derivedFd, cString(tmpName), derivedFd, cString(name), RENAME_EXCHANGE) === 0) {
        // The temp name now holds the old export.
        rmSync(`${base}/${tmpName}`, { recursive: true, force: true });
        return;
      }
      const errno = sys.errno();
      if (errno !== 2) throw errnoError(errno, `swap ${tmpName} with ${name}`);
    } else {
      // Without renameat2: the old one steps aside first (a moment without an export at that name).
      const old = `${tmpName}-old`;
      renameSync(`${base}/${name}`, `${base}/${old}`);
      renameSync(`${base}/${tmpName}`, `${base}/${name}`);
      rmSync(`${base}/${old}`, { recursive: true, force: true });
      return;
    }
  }
  throw new Error(`${DERIVED_DIR}/${name} kept changing while the export was put in place`);
}

/** Writes one volume as OME-Zarr and puts it in place; returns what the parent reports. */
export async function exportVolume(spec: ExportSpec, onProgress: (fraction: number) => void): Promise<Extract<ExportMessage, { type: "done" }>> {
  const sources = await detectVolumes(spec.datasetPath, spec.files);
  const source = sources.find((s) => s.file === spec.file);
  for (const s of sources) if (s !== source) await s.close();
  if (!source) throw new Error(`${spec.file}: no volume found in it any more`);
  const derivedFd = openDerived(spec, true);
  const levels = planLevels(source, source.spacing, DTYPE_BYTES[source.dtype], spec.slabBudget);
  const budget = inFlightBudget(levels[0]!, DTYPE_BYTES[source.dtype]);
  // Every chunk buffer back from compression is kept for the next bands (new ones are made only when none is free,
  // so they never number more than a band and a half per level): fresh memory costs its page faults every time.
  const pool = new GzipPool(undefined, 4 * budget);
  let bytes = 0;
  try {
    const tmp = `/proc/self/fd/${derivedFd}/${spec.tmpName}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o775 });
    const tmpFd = openSyncDir(tmp);
    // Each folder of the store is held open from its creation: files are made beneath the descriptor (never through a
    // name a share user could swap for a symlink) and the folder is synced through it before the store is published.
    const dirs = new Map<string, number>([["", tmpFd]]);
    try {
      const sink: ZarrSink = {
        mkdir: async (rel) => {
          await mkdir(`/proc/self/fd/${tmpFd}/${rel}`, { mode: 0o775 });
          dirs.set(rel, openSyncDir(`/proc/self/fd/${tmpFd}/${rel}`));
        },
        write: async (rel, data) => {
          bytes += data.byteLength;
          const slash = rel.lastIndexOf("/");
          const dirFd = dirs.get(slash < 0 ? "" : rel.slice(0, slash));
          if (dirFd === undefined) throw new Error(`${rel}: its folder was never made`);
          const fh = await open(`/proc/self/fd/${dirFd}/${rel.slice(slash + 1)}`, NEW_FILE, 0o664);
          try {
            await fh.writeFile(data);
            // Durable before the rename publishes it: a power loss never leaves a store with empty or torn chunks.
            // Synced here, as each chunk is written (many at once, while the next chunks are cut and compressed).
            await fh.datasync();
          } finally {
            await fh.close();
          }
        },
        compress: (data) => pool.compress(data),
        buffer: (n) => pool.buffer(n),
      };
      const writer = new OmeZarrWriter(sink, source.dtype, levels, { maxInFlightBytes: budget });
      await writer.start();
      // Slices, means and chunks handed to the workers are garbage at once, but the engine collects them lazily (the
      // peak then creeps up with depth, and 64 big slices of garbage double it): a full collection every ~32 MB read.
      const every = Math.max(1, Math.min(levels[0]!.chunks[0], Math.floor(GC_BYTES / (source.width * source.height * DTYPE_BYTES[source.dtype]))));
      for (let z = 0; z < source.depth; z++) {
        await writer.push(await source.readSlice(z));
        onProgress((z + 1) / source.depth);
        if ((z + 1) % every === 0) Bun.gc(true);
      }
      const name = spec.name.replace(/\.ome\.zarr$/, "");
      await writer.finish(multiscalesAttrs(name, levels, source.unit, source));
      // The folders' entries (level folders first, the store's own last), then the rename, then derived/'s entry.
      for (const [rel, fd] of [...dirs].reverse()) if (rel !== "") fsyncSync(fd);
      fsyncSync(tmpFd);
      replace(derivedFd, spec.tmpName, spec.name);
      fsyncSync(derivedFd);
      const l0 = levels[0]!;
      return { type: "done", levels: levels.length, bytes, shape: l0.shape, dtype: source.dtype, maxRss: peakRss() };
    } finally {
      for (const fd of dirs.values()) closeSync(fd);
    }
  } catch (e) {
    rmSync(`/proc/self/fd/${derivedFd}/${spec.tmpName}`, { recursive: true, force: true });
    throw e;
  } finally {
    pool.close();
    closeSync(derivedFd);
    await source.close();
  }
}

/** The child's main: one spec line on stdin, progress and the outcome on stdout; exit code 0 when written. */
export async function runExportChild(): Promise<number> {
  // Only the parent stops an export (SIGKILL); a Ctrl-C to the whole group must not end it half-way on its own.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => {});
  const cleanup = process.env[EXPORT_CLEANUP_ENV];
  if (cleanup) {
    const s = JSON.parse(cleanup) as ExportSpec;
    registerShareRoot(s.shareRoot);
    removeTemp(s);
    return 0;
  }
  let spec: ExportSpec | null = null;
  try {
    spec = await readSpecLine<ExportSpec>("export spec");
    registerShareRoot(spec.shareRoot);
    let last = 0;
    send(
      await exportVolume(spec, (f) => {
        if (f - last >= 0.005 || f === 1) {
          last = f;
          send({ type: "progress", fraction: f });
        }
      }),
    );
    return 0;
  } catch (e) {
    send({ type: "error", message: e instanceof Error ? e.message : String(e), maxRss: peakRss() });
    return 1;
  }
}
