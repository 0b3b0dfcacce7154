import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

/** A path as the fs module takes it: a string, or bytes when a name in it is not valid UTF-8. */
export type FsPath = string | Buffer;

/** Joins a folder path and a child name (both possibly bytes). */
export function childPath(dir: FsPath, name: string | Buffer): FsPath {
  if (typeof dir === "string" && typeof name === "string") return `${dir}/${name}`;
  return Buffer.concat([Buffer.from(dir), Buffer.from("/"), Buffer.from(name)]);
}

/**
 * Writes a file in an existing folder so that a crash at any moment leaves either the old or the new
 * content, whole: temp name in the same folder, write, fsync, rename over, fsync the folder.
 */
export function writeFileAtomic(dir: FsPath, name: string, data: string | Uint8Array, mode = 0o644): void {
  writeFileAtomicStream(dir, name, [data], mode);
}

/** writeFileAtomic for content produced piece by piece (a listing of millions of lines), written in 1 MiB blocks. */
export function writeFileAtomicStream(dir: FsPath, name: string, pieces: Iterable<string | Uint8Array>, mode = 0o644): void {
  const tmp = childPath(dir, `${name}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const fd = openSync(tmp, "w", mode);
  try {
    let block: Buffer[] = [];
    let size = 0;
    const flush = () => {
      const buf = block.length === 1 ? block[0]! : Buffer.concat(block);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      block = [];
      size = 0;
    };
    for (const p of pieces) {
      const buf = typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      block.push(buf);
      size += buf.length;
      if (size >= 1 << 20) flush();
    }
    if (block.length > 0) flush();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, childPath(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** Flushes a file's content to disk. */
export function fsyncFile(file: FsPath): void {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename in `dir` durable. */
export const fsyncDir = fsyncFile;
