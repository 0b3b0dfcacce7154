// `mata rebuild` takes the checksums back from each dataset's manifest, so a lost database does not lose fixity.
import type { AppContext } from "../context.ts";
import { readManifest } from "../sync/manifest.ts";
import { fsPath } from "../sync/names.ts";
import { fixityRepo } from "./fixity.repo.ts";

/** The rebuild step: every checksum a manifest holds for a file whose size and mtime are unchanged. */
export async function importChecksums(ctx: AppContext): Promise<{ checksums: number }> {
  const repo = fixityRepo(ctx.db);
  let checksums = 0;
  for (const ds of repo.presentDatasets()) {
    const manifest = readManifest(fsPath(ctx.config.root, ds.path));
    if (!manifest) continue;
    ctx.db.transaction(() => {
      for (const f of manifest.files) if (f.sha256 && repo.restore(ds.id, f.path, f.size, f.mtimeMs, f.sha256)) checksums++;
    })();
  }
  return { checksums };
}
