// The benchmark tree shared by the sync benchmarks: 1,000 datasets of 100 files (100,000 files).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Creates (once) ROOT with 1,000 dataset folders, each with 100 small files in three folders. */
export function ensureTree(root: string, datasets = 1000, filesPer = 100): void {
  const marker = path.join(path.dirname(root), `.tree-${datasets}x${filesPer}`);
  if (existsSync(marker)) return;
  for (let d = 0; d < datasets; d++) {
    const ds = path.join(root, `ds${String(d).padStart(4, "0")}`);
    for (const sub of ["", "raw", "raw/slices"]) mkdirSync(path.join(ds, sub), { recursive: true });
    for (let i = 0; i < filesPer; i++) {
      const sub = i < 10 ? "" : i < 40 ? "raw" : "raw/slices";
      writeFileSync(path.join(ds, sub, `f${String(i).padStart(3, "0")}.dat`), `dataset ${d} file ${i}\n`);
    }
  }
  writeFileSync(marker, "");
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Tries to drop the page cache (root only); false when this machine does not allow it. */
export function dropCaches(): boolean {
  try {
    Bun.spawnSync(["sync"]);
    writeFileSync("/proc/sys/vm/drop_caches", "3\n");
    return true;
  } catch {
    return false;
  }
}
