// The statfs seam: free and total bytes of the file system holding a path, for health and metrics.
import { statfsSync } from "node:fs";

/** Space on one file system as an unprivileged writer sees it (root's reserved blocks left out), or why it is unknown. */
export type DiskSpace = { freeBytes: number; totalBytes: number } | { error: string };

/** One statfs call: cheap enough for every health poll and scrape. */
export function diskSpace(path: string): DiskSpace {
  try {
    const st = statfsSync(path);
    return { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}
