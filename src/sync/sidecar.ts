// The hidden `.mata/` sidecar of a dataset folder: identity and the metadata mirror (the manifest is manifest.ts).
// Everything read from it is untrusted: a file that does not validate is treated as absent.
import { lstatSync, mkdirSync } from "node:fs";
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

/** Whether a sidecar file is there (a real file in a real `.mata` folder), so a lost one is written again. */
export function hasSidecarFile(datasetAbs: FsPath, name: string): boolean {
  const dir = sidecarDir(datasetAbs);
  return lstatOrNull(dir)?.isDirectory() === true && lstatOrNull(childPath(dir, name))?.isFile() === true;
}

/** Reads a sidecar file only from a real `.mata` folder: a symlinked one could point at another dataset's. */
function readSidecarFile(datasetAbs: FsPath, name: string, maxBytes: number): string | undefined {
  const dir = sidecarDir(datasetAbs);
  if (!lstatOrNull(dir)?.isDirectory()) return undefined;
  return readSmallFile(childPath(dir, name), maxBytes);
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
  const dir = sidecarDir(datasetAbs);
  ensureSidecarDir(dir);
  writeFileAtomic(dir, "identity.json", JSON.stringify(identity) + "\n");
}

/** Writes `.mata/metadata.json` atomically; metadata calls it after every title, description, tag or parent change. */
export function writeMetadataMirror(datasetAbsPath: FsPath, mirror: MetadataMirror): void {
  const checked = validateMirror(mirror);
  if (!checked) throw new Error(`metadata mirror for ${String(datasetAbsPath)} is malformed`);
  const dir = sidecarDir(datasetAbsPath);
  ensureSidecarDir(dir);
  writeFileAtomic(dir, "metadata.json", JSON.stringify(checked, null, 1) + "\n");
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
