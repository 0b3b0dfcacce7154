// Walking the share: the dataset folders at the configured depth, and the files of one dataset.
import { listDir, lstatStrict, statKind, type FsPath } from "./fs.ts";
import { fsPath } from "./names.ts";

/** The sidecar folder inside every dataset folder; its files are never dataset files. */
export const SIDECAR_DIR = ".mata";

/** A file of a dataset as seen on disk (path relative to the dataset, stored form of names.ts). */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  inode: number;
}

/** A dataset folder found at the configured depth. */
export interface FolderEntry {
  /** Relative to the root, '/'-separated, stored form. */
  path: string;
  abs: FsPath;
  inode: number;
  ownerUid: number;
}

/** Problems met while walking that do not stop the scan (an unreadable subfolder...). */
export type WalkErrors = string[];

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? String(e);
}

/** A path of hundreds of characters, cut in the middle so the error naming it still shows its cause. */
function shown(rel: string): string {
  return rel.length > 300 ? `${rel.slice(0, 120)}…${rel.slice(-120)}` : rel;
}

/**
 * lstat of one entry; a refusal other than "vanished" (a name too long for the path limit, a permission, an I/O
 * error) is recorded against that entry and the walk goes on without it.
 */
function lstatEntry(p: FsPath, rel: string, errors: WalkErrors): ReturnType<typeof lstatStrict> {
  try {
    return lstatStrict(p);
  } catch (e) {
    errors.push(`cannot read "${shown(rel)}": ${errCode(e)}`);
    return undefined;
  }
}

/**
 * Lists every file below a dataset folder (never following symlinks, skipping fifos, sockets and devices,
 * and the top-level sidecar). Unreadable subfolders are reported in `errors` (and their paths in `unreadable`,
 * "" for the dataset folder itself); vanished entries are skipped.
 * Entries are in no particular order.
 */
export function walkDataset(abs: FsPath, errors: WalkErrors, unreadable: string[] = []): FileEntry[] {
  const files: FileEntry[] = [];
  const stack: { abs: FsPath; rel: string }[] = [{ abs, rel: "" }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = listDir(dir.abs);
    } catch (e) {
      const code = errCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        errors.push(`cannot read folder "${shown(dir.rel) || "."}": ${code}`);
        unreadable.push(dir.rel);
      }
      continue;
    }
    for (const ent of entries) {
      if (dir.rel === "" && ent.name === SIDECAR_DIR) continue;
      const rel = dir.rel === "" ? ent.name : `${dir.rel}/${ent.name}`;
      if (ent.kind === "dir") {
        stack.push({ abs: ent.path, rel });
        continue;
      }
      if (ent.kind === "symlink" || ent.kind === "other") continue;
      const st = lstatEntry(ent.path, rel, errors);
      if (!st) continue;
      const kind = statKind(st);
      if (kind === "dir") stack.push({ abs: ent.path, rel });
      else if (kind === "file") files.push({ path: rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs), inode: st.ino });
    }
  }
  return files;
}

/**
 * The dataset folders below `prefix` (a folder path relative to the root with fewer than `depth` parts, or
 * exactly `depth` parts for one dataset). Hidden folders (names starting with ".") and symlinks are never datasets.
 * Folders above the dataset level that cannot be read are reported in `errors` and `unreadable`.
 */
export function listDatasetFolders(root: string, depth: number, prefix: string, errors: WalkErrors, unreadable: string[] = []): FolderEntry[] {
  const out: FolderEntry[] = [];
  const parts = prefix === "" ? 0 : prefix.split("/").length;
  const startAbs = fsPath(root, prefix);
  if (parts === depth) {
    const st = lstatEntry(startAbs, prefix, errors);
    if (st?.isDirectory()) out.push({ path: prefix, abs: startAbs, inode: st.ino, ownerUid: st.uid });
    return out;
  }
  const visit = (abs: FsPath, rel: string, level: number) => {
    let entries;
    try {
      entries = listDir(abs);
    } catch (e) {
      const code = errCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        errors.push(`cannot read folder "${shown(rel) || "."}": ${code}`);
        unreadable.push(rel);
      }
      return;
    }
    for (const ent of entries) {
      if (ent.name.startsWith(".")) continue;
      if (ent.kind !== "dir" && ent.kind !== "unknown") continue;
      const childRel = rel === "" ? ent.name : `${rel}/${ent.name}`;
      const st = lstatEntry(ent.path, childRel, errors);
      if (!st?.isDirectory()) continue;
      if (level + 1 === depth) out.push({ path: childRel, abs: ent.path, inode: st.ino, ownerUid: st.uid });
      else visit(ent.path, childRel, level + 1);
    }
  };
  visit(startAbs, prefix, parts);
  return out;
}
