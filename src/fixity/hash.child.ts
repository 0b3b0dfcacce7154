// The fixity hasher, a child process at low priority: reads a dataset's files beneath the share root and prints each
// one's SHA-256 with the size and mtime it had while read, one JSON line per file, in the order asked.
import { closeSync, constants, fstatSync, readSync } from "node:fs";
import { registerShareRoot, openShareFile } from "../platform/share-root.ts";
import { openablePath } from "../sync/names.ts";
import { lines } from "../platform/lines.ts";

export const HASH_CHILD_ENV = "MATA_FIXITY_CHILD";

/** The first line on the child's stdin; one JSON string (a dataset-relative stored path) per line follows. */
export interface HashSpec {
  shareRoot: string;
  /** The dataset folder in stored form (src/sync/names.ts). */
  datasetPath: string;
}

/** One line of the child's answer. */
export type HashResult = { sha256: string; size: number; mtimeMs: number } | { error: string };

const CHUNK = 1 << 20;

/** Hashes one file streaming through one buffer; a file that changed while read is reported, not hashed. */
export function hashFile(abs: string, buf: Uint8Array): HashResult {
  let fd: number;
  try {
    // Non-blocking, so a FIFO named like a data file is refused below instead of waiting for a writer for ever.
    fd = openShareFile(openablePath(abs), constants.O_NONBLOCK);
  } catch (e) {
    return { error: `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) return { error: "not a regular file" };
    const hasher = new Bun.CryptoHasher("sha256");
    for (let pos = 0; ;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      hasher.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
    }
    const after = fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return { error: "changed while being read" };
    return { sha256: hasher.digest("hex"), size: after.size, mtimeMs: Math.floor(after.mtimeMs) };
  } catch (e) {
    return { error: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

/** The child's main: answers every path line as it comes; exit code 0 once stdin ends. */
export async function runHashChild(): Promise<number> {
  const buf = new Uint8Array(CHUNK);
  const out = Bun.stdout.writer();
  let spec: HashSpec | null = null;
  for await (const line of lines(Bun.stdin.stream())) {
    if (!line) continue;
    if (!spec) {
      spec = JSON.parse(line) as HashSpec;
      registerShareRoot(spec.shareRoot);
      continue;
    }
    out.write(JSON.stringify(hashFile(`${spec.datasetPath}/${JSON.parse(line) as string}`, buf)) + "\n");
    await out.flush();
  }
  return 0;
}
