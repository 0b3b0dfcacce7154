// `.mata/manifest.json` and `.mata/manifest.log`: the files of a dataset as last reconciled, so the folder documents
// itself. The base lists every file; each later change is appended to the log, and the base is rewritten from the
// database (streamed, in path order) once the log grows past a fraction of it, so one change in a dataset of a million
// files costs one appended line, not a 70 MB rewrite.
import { closeSync, constants, fstatSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs";
import { childPath, lstatOrNull, readSmallFile, writeFileAtomicStream, type FsPath } from "./fs.ts";
import { hasSidecarFile, isRecord, isUid, parseJson, withSidecar } from "./sidecar.ts";
import type { FileEntry } from "./walk.ts";

const BASE = "manifest.json";
const LOG = "manifest.log";
/** The log is folded into the base once it is larger than this share of the base (and than MIN_COMPACT bytes). */
const COMPACT_RATIO = 0.5;
const MIN_COMPACT = 1 << 20;
const MAX_MANIFEST_BYTES = 1024 * 1024 * 1024;

/** One change to append: a file as it is now, or the path of one removed. */
export type ManifestChange = { file: FileEntry } | { removed: string };

const line = (f: FileEntry) => JSON.stringify({ path: f.path, size: f.size, mtime: f.mtimeMs, inode: f.inode, ...(f.sha256 ? { sha256: f.sha256 } : {}) });

/** A checksum fixity recorded, valid for the file's content at this size and mtime. */
export interface ManifestChecksum {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Writes the base manifest from `files` (in path order, streamed), recording the dataset generation it reflects;
 * log lines of that generation or older are then ignored, so a crash before the old log is removed loses nothing.
 */
export function writeManifest(datasetAbs: FsPath, uid: string, generation: number, files: Iterable<FileEntry>): void {
  withSidecar(datasetAbs, true, (dir) => writeBase(dir, uid, generation, files));
}

function writeBase(dir: FsPath, uid: string, generation: number, files: Iterable<FileEntry>): void {
  function* text(): Generator<string> {
    yield `{"uid":${JSON.stringify(uid)},"generation":${generation},"files":[`;
    let first = true;
    for (const f of files) {
      yield `${first ? "\n" : ",\n"}${line(f)}`;
      first = false;
    }
    yield "\n]}\n";
  }
  writeFileAtomicStream(dir, BASE, text());
  removeLog(dir);
}

function removeLog(dir: FsPath): void {
  try {
    unlinkSync(childPath(dir, LOG));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/**
 * Appends the changes of one committed generation to the log, in one write, flushed to disk. Returns true when the
 * log has grown enough that the base should be rewritten (see writeManifest).
 */
export function appendManifest(datasetAbs: FsPath, generation: number, changes: ManifestChange[]): boolean {
  return withSidecar(datasetAbs, true, (dir) => appendLog(dir, generation, changes)) ?? false;
}

/**
 * Appends checksums fixity recorded at the dataset's current generation; each applies only while its file keeps the
 * size and mtime it was taken at. Returns true when the base should be rewritten (see appendManifest).
 */
export function appendChecksums(datasetAbs: FsPath, generation: number, sums: ManifestChecksum[]): boolean {
  const text = sums.map((c) => `{"g":${generation},"sum":${JSON.stringify({ path: c.path, size: c.size, mtime: c.mtimeMs, sha256: c.sha256 })}}\n`).join("");
  return withSidecar(datasetAbs, true, (dir) => appendText(dir, text)) ?? false;
}

function appendLog(dir: FsPath, generation: number, changes: ManifestChange[]): boolean {
  const text = changes
    .map((c) => ("file" in c ? `{"g":${generation},"file":${line(c.file)}}\n` : `{"g":${generation},"removed":${JSON.stringify(c.removed)}}\n`))
    .join("");
  return appendText(dir, text);
}

function appendText(dir: FsPath, text: string): boolean {
  // Never through a symlink planted in the sidecar: the service would append to whatever it names.
  const fd = openSync(childPath(dir, LOG), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  let logSize: number;
  try {
    writeSync(fd, text);
    fsyncSync(fd);
    logSize = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const baseSize = lstatOrNull(childPath(dir, BASE))?.size ?? 0;
  return logSize > Math.max(MIN_COMPACT, baseSize * COMPACT_RATIO);
}

/** Whether the base manifest is there (a real file in a real `.mata` folder), so a lost one is written again. */
export const hasManifest = (datasetAbs: FsPath) => hasSidecarFile(datasetAbs, BASE);

function validEntry(f: unknown): FileEntry | undefined {
  if (!isRecord(f) || typeof f.path !== "string" || f.path === "" || f.path.startsWith("/") || f.path.split("/").includes("..")) return undefined;
  if (![f.size, f.mtime, f.inode].every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0)) return undefined;
  const sha256 = typeof f.sha256 === "string" && SHA256_RE.test(f.sha256) ? f.sha256 : undefined;
  return { path: f.path, size: f.size as number, mtimeMs: f.mtime as number, inode: f.inode as number, ...(sha256 ? { sha256 } : {}) };
}

function applyChecksum(files: Map<string, FileEntry>, sum: Record<string, unknown>): void {
  const entry = typeof sum.path === "string" ? files.get(sum.path) : undefined;
  if (entry && sum.size === entry.size && sum.mtime === entry.mtimeMs && typeof sum.sha256 === "string" && SHA256_RE.test(sum.sha256))
    entry.sha256 = sum.sha256;
}

/**
 * Reads the manifest (base plus the log's newer lines) and validates it; undefined when absent or malformed.
 * A last log line cut short by a crash is ignored. Reads the whole listing into memory: for tools and tests.
 */
export function readManifest(datasetAbs: FsPath): { uid: string; generation: number; files: FileEntry[] } | undefined {
  return withSidecar(datasetAbs, false, readFrom);
}

function readFrom(dir: FsPath): { uid: string; generation: number; files: FileEntry[] } | undefined {
  const v = parseJson(readSmallFile(childPath(dir, BASE), MAX_MANIFEST_BYTES));
  if (!isRecord(v) || !isUid(v.uid) || !Array.isArray(v.files)) return undefined;
  const generation = Number.isSafeInteger(v.generation) ? (v.generation as number) : 0;
  const files = new Map<string, FileEntry>();
  for (const f of v.files) {
    const entry = validEntry(f);
    if (!entry) return undefined;
    files.set(entry.path, entry);
  }
  const log = readSmallFile(childPath(dir, LOG), MAX_MANIFEST_BYTES) ?? "";
  for (const text of log.split("\n")) {
    const rec = parseJson(text);
    if (!isRecord(rec) || typeof rec.g !== "number" || rec.g < generation) continue;
    // A checksum taken at the base's generation may postdate the base; a change of that generation is in it already.
    if (isRecord(rec.sum)) applyChecksum(files, rec.sum);
    else if (rec.g === generation) continue;
    else if (typeof rec.removed === "string") files.delete(rec.removed);
    else {
      const entry = validEntry(rec.file);
      if (entry) files.set(entry.path, entry);
    }
  }
  return { uid: v.uid, generation, files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}
