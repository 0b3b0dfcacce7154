import path from "node:path";

/** A run of files that differ only in one number, in slice order; or a lone file. */
export interface FileGroup {
  files: string[];
}

const collator = new Intl.Collator("en", { numeric: true });

/** Sorts names the way people number slices: "img2" before "img10". */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * Groups files of one format into numbered stacks: names that are equal except for one number
 * (the last one that varies) form a stack sorted by that number; other numbers that vary split
 * stacks (e.g. channel "c1"/"c2"). Files that match nothing come back as groups of one.
 */
export function groupNumbered(files: string[]): FileGroup[] {
  const bySkeleton = new Map<string, { file: string; runs: string[] }[]>();
  for (const file of files) {
    const dir = path.posix.dirname(file);
    const base = path.posix.basename(file);
    const dot = base.lastIndexOf(".");
    const stem = dot > 0 ? base.slice(0, dot) : base;
    const ext = dot > 0 ? base.slice(dot).toLowerCase() : "";
    const runs = stem.match(/\d+/g) ?? [];
    const skeleton = `${dir}/${stem.replace(/\d+/g, "#")}${ext}`;
    const list = bySkeleton.get(skeleton) ?? [];
    list.push({ file, runs });
    bySkeleton.set(skeleton, list);
  }
  const groups: FileGroup[] = [];
  for (const members of bySkeleton.values()) {
    const runCount = members[0]!.runs.length;
    if (members.length < 2 || runCount === 0) {
      for (const m of members) groups.push({ files: [m.file] });
      continue;
    }
    let varying = -1;
    for (let i = runCount - 1; i >= 0 && varying < 0; i--) {
      const first = Number(members[0]!.runs[i]);
      if (members.some((m) => Number(m.runs[i]) !== first)) varying = i;
    }
    const sub = new Map<string, { file: string; n: number }[]>();
    for (const m of members) {
      const key = m.runs
        .filter((_, i) => i !== varying)
        .map(Number)
        .join(",");
      const list = sub.get(key) ?? [];
      list.push({ file: m.file, n: varying < 0 ? 0 : Number(m.runs[varying]) });
      sub.set(key, list);
    }
    for (const list of sub.values()) {
      list.sort((a, b) => a.n - b.n || naturalCompare(a.file, b.file));
      groups.push({ files: list.map((x) => x.file) });
    }
  }
  return groups;
}
