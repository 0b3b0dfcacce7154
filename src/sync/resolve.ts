// Deciding, for every dataset folder seen, which dataset it is: the same one, a moved or restored one,
// a copy, or a new one. The sidecar says what a folder claims; the database and the disk decide.
import { lstatOrNull, type FsPath } from "./fs.ts";
import { fsPath } from "./names.ts";
import type { Identity } from "./sidecar.ts";
import type { SyncDatasetRow, SyncRepo } from "./sync.repo.ts";

/** A dataset folder as observed on disk, with the identity its sidecar claims (undefined when none is valid). */
export interface Observed {
  path: string;
  abs: FsPath;
  inode: number;
  ownerUid: number;
  identity: Identity | undefined;
}

/** What to do with one observed folder. */
export type Action =
  | { kind: "keep"; folder: Observed; row: SyncDatasetRow }
  | { kind: "move"; folder: Observed; row: SyncDatasetRow }
  | { kind: "adopt"; folder: Observed; row: SyncDatasetRow }
  | { kind: "new"; folder: Observed; uid: string; writeIdentity: boolean; copyOf?: { row?: SyncDatasetRow; path?: string } };

/** The plan for a set of folders: an action per folder and the rows whose folder is gone. */
export interface Plan {
  actions: Action[];
  missing: SyncDatasetRow[];
}

const byPath = (a: Observed, b: Observed) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Resolves identities. `folders` are every dataset folder known to exist among the paths looked at;
 * `scopeRows` the present rows whose folder would be among them if it still existed.
 * Rules (deterministic): a folder at its row's path with the row's folder inode keeps that dataset; a uid at its
 * database path keeps that dataset; a uid seen elsewhere whose home is gone
 * moves there only if the folder is genuinely the same (same folder inode, or files matching the database),
 * so a forged or copied sidecar never takes over a dataset; every other claimant becomes a copy
 * (a new dataset with a fresh uid and the claimed dataset as its parent).
 */
export function resolve(
  repo: SyncRepo,
  folders: Observed[],
  scopeRows: SyncDatasetRow[],
  newUid: () => string,
  holdsOutside: (row: SyncDatasetRow) => boolean,
): Plan {
  const actions: Action[] = [];
  const taken = new Set<number>();
  const groups = new Map<string, Observed[]>();
  const anonymous: Observed[] = [];
  // A folder still at its row's path with the same folder inode is that dataset, whatever its sidecar says now
  // (deleted, copied over from another dataset, edited by hand): its identity is rewritten from the row.
  const rowAtPath = new Map(scopeRows.map((r) => [r.path, r]));
  for (const f of [...folders].sort(byPath)) {
    const own = rowAtPath.get(f.path);
    if (own && own.folder_inode === f.inode && own.uid !== f.identity?.uid) {
      actions.push({ kind: "adopt", folder: f, row: own });
      taken.add(own.id);
      continue;
    }
    if (!f.identity) {
      anonymous.push(f);
      continue;
    }
    const g = groups.get(f.identity.uid);
    if (g) g.push(f);
    else groups.set(f.identity.uid, [f]);
  }

  const claimed = new Set(groups.keys());
  for (const [uid, claimants] of groups) {
    const row = repo.byUid(uid);
    let rest = claimants;
    if (row && taken.has(row.id)) {
      // Its own folder kept it (above): every other folder with its uid is a copy.
      for (const f of claimants) actions.push({ kind: "new", folder: f, uid: newUid(), writeIdentity: true, copyOf: { row } });
    } else if (row) {
      const home = claimants.find((f) => f.path === row.path);
      if (home) {
        actions.push({ kind: "keep", folder: home, row });
        rest = claimants.filter((f) => f !== home);
      } else if (!holdsOutside(row)) {
        const genuine = claimants
          .filter((f) => row.folder_inode === f.inode)
          .concat(claimants.filter((f) => row.folder_inode !== f.inode && filesMatch(repo, row, f)));
        const mover = genuine[0];
        if (mover) {
          actions.push({ kind: "move", folder: mover, row });
          rest = claimants.filter((f) => f !== mover);
        }
      }
      // A row whose home (outside the paths looked at) still holds its uid is not ours to touch: all claimants copy it.
      if (rest.length < claimants.length) taken.add(row.id);
      for (const f of rest) {
        // A copy already made whose identity could not be written: the row at this path is that copy.
        const existing = repo.presentByPath(f.path);
        if (existing && existing.uid !== uid && repo.isChildOf(existing.id, row.id)) {
          actions.push({ kind: "adopt", folder: f, row: existing });
          taken.add(existing.id);
        } else actions.push({ kind: "new", folder: f, uid: newUid(), writeIdentity: true, copyOf: { row } });
      }
    } else {
      // A uid the database does not know (a rebuilt database, a crash before commit, another installation,
      // or two processes giving the same new folder an identity at once).
      const [first, ...others] = claimants as [Observed, ...Observed[]];
      const occupant = repo.presentByPath(first.path);
      if (occupant && !claimed.has(occupant.uid) && !taken.has(occupant.id) && !first.identity!.copiedFrom) {
        // The dataset already at this path, whose own uid is nowhere else: it stays that dataset.
        actions.push({ kind: "adopt", folder: first, row: occupant });
        taken.add(occupant.id);
      } else {
        const parent = first.identity!.copiedFrom ? repo.byUid(first.identity!.copiedFrom) : undefined;
        actions.push({ kind: "new", folder: first, uid, writeIdentity: false, copyOf: parent ? { row: parent } : undefined });
      }
      for (const f of others) actions.push({ kind: "new", folder: f, uid: newUid(), writeIdentity: true, copyOf: { path: first.path } });
    }
  }

  for (const f of anonymous) {
    const row = repo.presentByPath(f.path);
    if (row && !taken.has(row.id) && !claimed.has(row.uid)) {
      actions.push({ kind: "adopt", folder: f, row });
      taken.add(row.id);
    } else actions.push({ kind: "new", folder: f, uid: newUid(), writeIdentity: true });
  }

  const missing = scopeRows.filter((r) => !taken.has(r.id));
  return { actions, missing };
}

/** True when some of the dataset's files (as the database knows them) are in the folder, unchanged. */
function filesMatch(repo: SyncRepo, row: SyncDatasetRow, f: Observed): boolean {
  for (const file of repo.sampleFiles(row.id, 16)) {
    const st = lstatOrNull(fsPath(f.abs, file.path));
    if (st?.isFile() && st.size === file.size && (st.ino === file.inode || Math.floor(st.mtimeMs) === file.mtime_ms)) return true;
  }
  return false;
}
