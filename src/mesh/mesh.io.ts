// File access shared by the mesh readers (STL, OBJ, PLY): opening beneath the share root, and chunked line reading.
import { closeSync, readSync } from "node:fs";
import { NotRegularFileError, openShareRegularFile } from "../platform/share-root.ts";
import { openablePath } from "../sync/names.ts";

/** Thrown for a mesh file that cannot be read; the message names the file and the problem. */
export class MeshReadError extends Error {
  override name = "MeshReadError";
}

/** Receives triangles in batches: 9 floats (three xyz corners) per triangle. */
export type TriangleSink = (batch: Float32Array, count: number) => void;

/** The errno code of a failed call, for messages that say why a file could not be read. */
export const errnoOf = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);

/** Opens a mesh file beneath the share root; a folder, FIFO or device in its place is refused, never read. */
export function openMesh(file: string): number {
  try {
    return openShareRegularFile(openablePath(file));
  } catch (e) {
    throw new MeshReadError(
      `${file}: ${e instanceof NotRegularFileError ? e.message : (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing (ENOENT)" : `cannot open (${errnoOf(e)})`}`,
    );
  }
}

/** Calls `onLine` for every line of a text file from byte `start` on, reading it in chunks, so memory stays bounded by the longest line. */
export function forEachLine(file: string, onLine: (line: string, no: number) => void, signal?: AbortSignal, start = 0): void {
  const fd = openMesh(file);
  try {
    const buf = Buffer.alloc(1 << 20);
    let rest = "";
    let no = 0;
    let pos = start;
    for (;;) {
      signal?.throwIfAborted();
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      pos += got;
      const text = rest + buf.toString("latin1", 0, got);
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) onLine(l, ++no);
      if (rest.length > 1 << 20) throw new MeshReadError(`${file}: line ${no + 1} is longer than 1 MiB; not a text mesh`);
    }
    if (rest) onLine(rest, ++no);
  } finally {
    closeSync(fd);
  }
}
