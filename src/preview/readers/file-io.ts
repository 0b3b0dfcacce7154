import path from "node:path";
import { close, fstat, read } from "node:fs";
import { promisify } from "node:util";
import { VolumeReadError } from "./reader.types.ts";
import { bytesToName, openablePath } from "../../sync/names.ts";
import { NotRegularFileError, openShareRegularFile } from "../../platform/share-root.ts";

/**
 * Paths handed to the readers are in stored form (src/sync/names.ts: a name that is not UTF-8 is escaped), so a
 * dataset named in Latin-1 is read like any other; each open below turns the path back into its exact bytes.
 * Every open goes beneath the share root with no symlink at any place (src/platform/share-root.ts), companion files
 * named by a header included: a folder a share user swaps for a symlink mid-build is refused, never read through.
 */

const readAt = promisify(read);
const statFd = promisify(fstat);
const closeFd = promisify(close);

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "missing",
  ELOOP: "a symbolic link on its path is not followed",
  ENOTDIR: "a folder on its path is not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENAMETOOLONG: "its path is too long",
  EIO: "input/output error",
};

/** A VolumeReadError naming the file for a failed open or read: the reason in words, the errno code after it. */
export function ioError(name: string, e: unknown, what = "cannot read"): VolumeReadError {
  if (e instanceof VolumeReadError) return e;
  if (e instanceof NotRegularFileError) return new VolumeReadError(`${name}: ${e.message}`, name);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return new VolumeReadError(`${name}: missing (ENOENT)`, name);
  const words = code ? ERRNO_WORDS[code] : undefined;
  return new VolumeReadError(`${name}: ${what}${words ? `: ${words}` : ""} (${code ?? (e as Error)?.message ?? String(e)})`, name);
}

/** Opens a regular share file by its stored path and returns its descriptor, or a VolumeReadError naming it. */
export function openShare(stored: string, name: string): number {
  try {
    return openShareRegularFile(openablePath(stored));
  } catch (e) {
    throw ioError(name, e, "cannot open");
  }
}

/** Runs `fn` on a share file's descriptor and closes it after; a failed read names the file. */
async function withFd<T>(stored: string, name: string, fn: (fd: number) => Promise<T>): Promise<T> {
  const fd = openShare(stored, name);
  try {
    return await fn(fd);
  } catch (e) {
    throw (e as Error)?.name === "AbortError" ? e : ioError(name, e);
  } finally {
    await closeFd(fd);
  }
}

/** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
export async function readUpTo(fd: number, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readAt(fd, buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/**
 * Runs `fn` with a path that names the share file opened beneath the root (`/proc/self/fd/N`), for a library that
 * opens files by path itself (geotiff); the library's own open must be done when `fn` resolves.
 */
export function withHeldPath<T>(stored: string, name: string, fn: (held: string, fd: number) => Promise<T>): Promise<T> {
  return withFd(stored, name, (fd) => fn(`/proc/self/fd/${fd}`, fd));
}

/**
 * A file read by position, so a slice read costs one pread and never the whole file. Each read opens and
 * closes its own descriptor: no handle outlives a call, so a caller that forgets close() leaks nothing.
 */
export class PositionedFile {
  /** `name` is the dataset-relative path used in error messages. */
  constructor(
    readonly path: string,
    readonly name: string,
  ) {}

  /** Reads exactly `length` bytes at `offset` into a fresh, aligned buffer; a short file is reported as truncated. */
  async readExact(offset: number, length: number): Promise<ArrayBuffer> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new VolumeReadError(`${this.name}: invalid data offset ${offset}`, this.name);
    return withFd(this.path, this.name, async (fd) => {
      const buffer = new ArrayBuffer(length);
      const view = new Uint8Array(buffer);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await readAt(fd, view, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new VolumeReadError(`${this.name}: truncated: needed ${length} bytes at offset ${offset}, the file ends after ${offset + done}`, this.name);
        }
        done += bytesRead;
      }
      return buffer;
    });
  }

  /** Nothing stays open between reads; kept so sources can close uniformly. */
  async close(): Promise<void> {}
}

/** The size of a file in bytes, or a VolumeReadError naming it when it is missing. */
export async function fileSize(path: string, name: string): Promise<number> {
  return withFd(path, name, async (fd) => (await statFd(fd)).size);
}

/** Reads up to `length` bytes from the start of a file (headers, magic numbers); `name` is the file in messages. */
export async function readHead(path: string, length: number, name = path): Promise<Uint8Array> {
  // A generous `length` (a 64 MiB DICOM header read) costs what the file holds, not what was asked.
  return withFd(path, name, async (fd) => readUpTo(fd, 0, Math.min(length, (await statFd(fd)).size)));
}

/** How far a header is read at first; a header longer than that (a list of thousands of slice files) is read again whole. */
export const HEADER_HEAD = 64 * 1024;
/** The most a header listing slice files may hold (about 100,000 names). */
export const MAX_LIST_HEADER = 16 * 1024 * 1024;

/** The whole of a detached header naming its slice files, which may be far longer than its first read. */
export async function readListHeader(path: string, head: Uint8Array, name: string): Promise<Uint8Array> {
  if (head.length < HEADER_HEAD) return head;
  const whole = await readHead(path, MAX_LIST_HEADER + 1, name);
  if (whole.length > MAX_LIST_HEADER) throw new VolumeReadError(`${name}: the header's list of slice files is over ${MAX_LIST_HEADER / 1048576} MiB`, name);
  return whole;
}

/** The most a text header (.xtekct, .vgi, a SkyScan log) may hold; a bigger one is no header. */
export const MAX_TEXT_HEADER = 16 * 1024 * 1024;

/**
 * Reads a whole small file (text headers, one 2D image) as long as it was when opened, refusing one over `max`
 * bytes before reading it: a 3 GB file named `.xtekct` must not become a 3 GB buffer, a file that keeps growing
 * must not be read forever.
 */
export async function readWhole(path: string, name: string, max: number): Promise<Uint8Array> {
  return withFd(path, name, async (fd) => {
    const size = (await statFd(fd)).size;
    if (size > max) throw new VolumeReadError(`${name}: ${mib(size)} is too large for this kind of file (at most ${mib(max)})`, name);
    return readUpTo(fd, 0, size);
  });
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MiB`;

/** Runs a reader step and turns any unexpected failure into a VolumeReadError naming the file. */
export async function guard<T>(name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof VolumeReadError) throw e;
    if ((e as Error)?.name === "AbortError") throw e;
    throw new VolumeReadError(`${name}: ${(e as Error)?.message ?? String(e)}`, name);
  }
}

/** Rejects with the signal's reason when a caller cancelled, so long reads stop between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const err = new Error("aborted");
    err.name = "AbortError";
    throw err;
  }
}

/**
 * The dataset-relative path of a file a header names (data file, slice list entry), refusing any name
 * that leaves the dataset folder: a crafted header must not turn previews into a way to read other files.
 */
export function companion(headerRel: string, name: string): string {
  const rel = path.posix.normalize(path.posix.join(path.posix.dirname(headerRel), name.replace(/\\/g, "/")));
  if (path.posix.isAbsolute(name) || rel === ".." || rel.startsWith("../") || rel.startsWith("/")) {
    throw new VolumeReadError(`${headerRel}: the data file "${name}" lies outside the dataset folder`, headerRel);
  }
  return rel;
}

// Header text is decoded as windows-1252 ("latin1" in TextDecoder); this maps each decoded character back to its byte.
const HEADER_DECODER = new TextDecoder("latin1");
const BYTE_OF = new Map(Array.from({ length: 256 }, (_, b) => [HEADER_DECODER.decode(Uint8Array.of(b)), b] as const));

/**
 * The stored form of a file name a header gives (decoded as "latin1", as header text is): its bytes again, named by
 * the rule of src/sync/names.ts, so a UTF-8 name, or a Latin-1 one from an old scanner PC, finds its file.
 */
export function headerName(text: string): string {
  return bytesToName(Uint8Array.from(text, (ch) => BYTE_OF.get(ch) ?? 0x3f));
}
