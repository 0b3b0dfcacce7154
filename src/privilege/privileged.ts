// The operations that need root on an appliance, behind one interface. Run in-process when Mata is started as one
// process (root, or unprivileged for development); with `user` set, `serve` runs them in a small root helper and
// the server reaches them over a narrow request channel (src/privilege/helper.ts, client.ts).
import type { Config } from "../config.ts";
import { changedSince, fixPaths, walkTree, type AclPlan, type AclWalkResult } from "../access/acl.service.ts";
import { canWriteAcls } from "../access/acl.fs.ts";
import { PamPool, type PamChecker } from "../auth/pam.backend.ts";
import { setSharePassword } from "../auth/share-password.ts";
import { serverAccount } from "./account.ts";
import { runRuleCommand, type CommandOutcome, type CommandRequest } from "../jobs/command.run.ts";
import { exportTempName } from "../export/export.child.ts";
import { exportInChild, type ExportDone } from "../export/export.process.ts";
import { registerShareRoot } from "../platform/share-root.ts";
import { storedPath } from "../sync/names.ts";

/** A dataset folder (relative to the share root) and the identity it must carry. */
export interface DatasetTarget {
  path: string;
  uid: string;
}

/** One volume to export as OME-Zarr into the dataset's `derived/` (src/export/): the names are checked by the helper. */
export interface ExportRequest {
  dataset: DatasetTarget;
  /** The file naming the volume and every file it reads, relative to the dataset folder. */
  file: string;
  files: string[];
  /** `<volume>.ome.zarr`, and the job whose temp folder (`.mata-tmp-<name>-<job>`) it is written into first. */
  name: string;
  job: number;
  /** Memory for one level-0 slab (tests). */
  slabBudget?: number;
}

/** What only root may do: owners and ACLs beneath the root, `.mata/` folders, passwords, PAM, rule commands. */
export interface Privileged {
  /** True when these run in the separate root helper and this process is unprivileged. */
  readonly separated: boolean;
  /** Whether owners and ACLs can be written at all (root here, or the helper). */
  readonly canWriteAcls: boolean;
  /** The uid this (server) process runs as: the owner of the state dir and of every `.mata/`. */
  readonly serverUid: number;
  /** Brings the entries of a dataset tree changed at or after `since` (-1: all) to the plan. */
  aclWalk(target: DatasetTarget, plan: AclPlan, since: number): Promise<AclWalkResult>;
  /** Brings the named entries of a dataset (and the folders leading to them) to the plan. */
  aclPaths(target: DatasetTarget, plan: AclPlan, paths: string[]): Promise<number>;
  /** Makes sure the dataset's `.mata/` exists and belongs to the server, which then writes its files itself. */
  prepareSidecar(target: DatasetTarget): Promise<void>;
  /** Sets a system account's unix and Samba passwords. */
  setPassword(user: string, password: string, smbConf?: string): Promise<void>;
  /** Where PAM conversations run (a thread pool here, or the helper's). */
  pamChecker(workers: number): PamChecker;
  /** Runs a file-type rule's command as its dataset folder's owner. */
  runCommand(req: CommandRequest, signal: AbortSignal): Promise<CommandOutcome>;
  /** Writes one OME-Zarr export into the dataset folder as its owner (the server may not write there itself). */
  runExport(req: ExportRequest, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<ExportDone>;
}

/** The operations run in this process, with whatever rights it has (root on an appliance without `user`). */
export function localPrivileged(config: Pick<Config, "root" | "user">): Privileged {
  const root = config.root;
  // Root beside a separated server (`mata scan`, or the helper itself) gives `.mata/` to the server's account too.
  const serverUid = process.getuid?.() === 0 && config.user ? serverAccount(config.user).uid : (process.getuid?.() ?? 0);
  return {
    separated: false,
    get canWriteAcls() {
      return canWriteAcls();
    },
    serverUid,
    aclWalk: (t, plan, since) => walkTree(plan, root, t.path, changedSince(plan, since)),
    aclPaths: async (t, plan, paths) => fixPaths(plan, root, t.path, paths),
    // This process makes `.mata/` itself (src/sync/sidecar.ts) when it first writes there.
    prepareSidecar: async () => {},
    setPassword: (user, password, smbConf) => setSharePassword(user, password, smbConf),
    pamChecker: (workers) => new PamPool(workers),
    runCommand: (req, signal) => runRuleCommand(root, req, signal),
    runExport: (req, signal, onProgress) => {
      // The helper opens dataset folders beneath the root too (it never served a request that needed it before).
      registerShareRoot(root);
      const spec = {
        shareRoot: root,
        datasetPath: fsPathStored(root, req.dataset.path),
        file: req.file,
        files: req.files,
        name: req.name,
        tmpName: exportTempName(req.name, req.job),
        ...(req.slabBudget !== undefined ? { slabBudget: req.slabBudget } : {}),
      };
      return exportInChild(spec, signal, onProgress);
    },
  };
}

/** A dataset folder's absolute path in stored form (src/sync/names.ts), as the export child takes it. */
function fsPathStored(root: string, rel: string): string {
  return `${storedPath(root)}/${rel}`;
}
