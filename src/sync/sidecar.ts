// The hidden `.mata/` sidecar of a dataset folder: identity and the metadata mirror (the manifest is manifest.ts).
// Everything read from it is untrusted: a file that does not validate is treated as absent.
import { closeSync, constants, lstatSync, mkdirSync, openSync } from "node:fs";
import { openBeneath } from "../platform/beneath.ts";
import { underShareRoot } from "../platform/share-root.ts";
import type { TagNode } from "../tags/tag.types.ts";
import { childPath, lstatOrNull, readSmallFile, removeStaleTemps, writeFileAtomic, type FsPath } from "./fs.ts";
import { SIDECAR_DIR } from "./walk.ts";

/** The identity a dataset folder carries with it through renames, moves and copies. */
export interface Identity {
  uid: string;
  createdAt: number;
  /** Set when this identity was given to a copy: the uid of the dataset it was copied from. */
  copiedFrom?: string;
  /** The dataset's id in the database, so `mata rebuild` gives it the same one (links keep working). */
  id?: number;
}

/** The metadata mirror kept beside the data so `mata rebuild` can re-create the database from the share. */
export interface MetadataMirror {
  title: string;
  description: string;
  tags: TagNode[];
  /** Parent datasets by uid. */
  parents: string[];
  updatedAt: number;
}

const UID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_IDENTITY_BYTES = 4096;
const MAX_MIRROR_BYTES = 8 * 1024 * 1024;
const MAX_TAG_DEPTH = 32;
const MAX_TEXT = 1_000_000;

/** A fresh dataset identity (random, so two installations never clash). */
export function newUid(): string {
  return crypto.randomUUID();
}

/** True for a string shaped like a uid Mata hands out. */
export function isUid(v: unknown): v is string {
  return typeof v === "string" && UID_RE.test(v);
}

export function sidecarDir(datasetAbs: FsPath): FsPath {
  return childPath(datasetAbs, SIDECAR_DIR);
}

/** A dataset's `.mata` held open while its files are read or written through `dir` (a /proc/self/fd path). */
export interface HeldSidecar {
  dir: FsPath;
  close(): void;
}

const O_CLOEXEC = 0o2000000;

/**
 * Holds a dataset's `.mata` open for reading or writing its files, or null when there is none (and `create` is
 * false). Under a registered share root it is opened beneath the root with no symlink at any place, so a dataset
 * folder or a `.mata` swapped for a symlink is refused (ELOOP), never written through; `create` makes it inside the
 * held dataset folder. Elsewhere (tools given a bare folder) it is found by path and must be a real folder.
 */
export function holdSidecar(datasetAbs: FsPath, create: boolean): HeldSidecar | null {
  const under = underShareRoot(datasetAbs);
  if (!under) {
    const dir = sidecarDir(datasetAbs);
    if (create) ensureSidecarDir(dir);
    return lstatOrNull(dir)?.isDirectory() ? { dir, close: () => {} } : null;
  }
  let fd: number;
  if (!create) {
    try {
      fd = openBeneath(under.root, Buffer.concat([under.rel, Buffer.from(`/${SIDECAR_DIR}`)]), constants.O_DIRECTORY | O_CLOEXEC);
    } catch {
      // As for any sidecar file: one that cannot be reached as a real folder without a symlink is absent.
      return null;
    }
  } else {
    // The dataset folder is held while `.mata` is made and opened in it: one swapped meanwhile is never written.
    const datasetFd = openBeneath(under.root, under.rel, constants.O_DIRECTORY | O_CLOEXEC);
    try {
      const dir = `/proc/self/fd/${datasetFd}/${SIDECAR_DIR}`;
      try {
        mkdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (!lstatSync(dir).isDirectory()) throw new Error(`${String(sidecarDir(datasetAbs))} is not a folder`);
      fd = openSync(dir, constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC);
    } finally {
      closeSync(datasetFd);
    }
  }
  const dir = `/proc/self/fd/${fd}`;
  if (create) removeStaleTemps(dir);
  return { dir, close: () => closeSync(fd) };
}

/** Runs `fn` on the held `.mata` of a dataset and lets it go; undefined when there is none. */
export function withSidecar<T>(datasetAbs: FsPath, create: boolean, fn: (dir: FsPath) => T): T | undefined {
  const held = holdSidecar(datasetAbs, create);
  if (!held) return undefined;
  try {
    return fn(held.dir);
  } finally {
    held.close();
  }
}

/** Removes temp files a killed writer left in a dataset's `.mata`; each scan calls it, so a crash leaves no litter. */
export function sweepSidecar(datasetAbs: FsPath): void {
  withSidecar(datasetAbs, false, removeStaleTemps);
}

/** Whether a sidecar file is there (a real file in a real `.mata` folder), so a lost one is written again. */
export function hasSidecarFile(datasetAbs: FsPath, name: string): boolean {
  return withSidecar(datasetAbs, false, (dir) => lstatOrNull(childPath(dir, name))?.isFile() === true) === true;
}

/** Reads a sidecar file only from a real `.mata` folder: a symlinked one could point at another dataset's. */
function readSidecarFile(datasetAbs: FsPath, name: string, maxBytes: number): string | undefined {
  return withSidecar(datasetAbs, false, (dir) => readSmallFile(childPath(dir, name), maxBytes));
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads and validates `.mata/identity.json`; undefined when absent, corrupt or malformed. */
export function readIdentity(datasetAbs: FsPath): Identity | undefined {
  const v = parseJson(readSidecarFile(datasetAbs, "identity.json", MAX_IDENTITY_BYTES));
  if (!isRecord(v) || !isUid(v.uid)) return undefined;
  if (typeof v.createdAt !== "number" || !Number.isFinite(v.createdAt) || v.createdAt < 0) return undefined;
  if (v.copiedFrom !== undefined && (!isUid(v.copiedFrom) || v.copiedFrom === v.uid)) return undefined;
  // A bad id is only ignored: the identity itself still holds.
  const id = Number.isSafeInteger(v.id) && (v.id as number) > 0 ? (v.id as number) : undefined;
  return { uid: v.uid, createdAt: v.createdAt, ...(v.copiedFrom ? { copiedFrom: v.copiedFrom } : {}), ...(id ? { id } : {}) };
}

/** Writes `.mata/identity.json` atomically (whole old or whole new after any crash). */
export function writeIdentity(datasetAbs: FsPath, identity: Identity): void {
  withSidecar(datasetAbs, true, (dir) => writeFileAtomic(dir, "identity.json", JSON.stringify(identity) + "\n"));
}

/** Writes `.mata/metadata.json` atomically; metadata calls it after every title, description, tag or parent change. */
export function writeMetadataMirror(datasetAbsPath: FsPath, mirror: MetadataMirror): void {
  const checked = validateMirror(mirror);
  if (!checked) throw new Error(`metadata mirror for ${String(datasetAbsPath)} is malformed`);
  withSidecar(datasetAbsPath, true, (dir) => writeFileAtomic(dir, "metadata.json", JSON.stringify(checked, null, 1) + "\n"));
}

/** Reads and validates `.mata/metadata.json`; undefined when absent or malformed. */
export function readMetadataMirror(datasetAbs: FsPath): MetadataMirror | undefined {
  return validateMirror(parseJson(readSidecarFile(datasetAbs, "metadata.json", MAX_MIRROR_BYTES)));
}

function validateMirror(v: unknown): MetadataMirror | undefined {
  if (!isRecord(v)) return undefined;
  const { title, description, tags, parents, updatedAt } = v;
  if (typeof title !== "string" || title.length > MAX_TEXT) return undefined;
  if (typeof description !== "string" || description.length > MAX_TEXT) return undefined;
  if (!Array.isArray(parents) || !parents.every(isUid)) return undefined;
  if (typeof updatedAt !== "number" || !Number.isFinite(updatedAt)) return undefined;
  const cleanTags = validateTags(tags, 0);
  if (!cleanTags) return undefined;
  return { title, description, tags: cleanTags, parents: [...new Set(parents as string[])], updatedAt };
}

function validateTags(v: unknown, depth: number): TagNode[] | undefined {
  if (!Array.isArray(v) || depth > MAX_TAG_DEPTH) return undefined;
  const out: TagNode[] = [];
  for (const t of v) {
    if (!isRecord(t) || typeof t.key !== "string" || t.key === "" || t.key.length > 1000) return undefined;
    if (typeof t.value !== "string" || t.value.length > 10000) return undefined;
    const children = validateTags(t.children ?? [], depth + 1);
    if (!children) return undefined;
    out.push({ key: t.key, value: t.value, children });
  }
  return out;
}

/** Creates `.mata` (never its dataset folder: one that vanished meanwhile must stay gone) and clears stale temps. */
export function ensureSidecarDir(dir: FsPath): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  if (!lstatSync(dir).isDirectory()) throw new Error(`${String(dir)} is not a folder`);
  removeStaleTemps(dir);
}
