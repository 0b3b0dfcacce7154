/**
 * Sizes as people read them (1,024-based, one decimal below 10), so a 40 GiB scan does not show as 42949672960. Every
 * template shows sizes through this one function, so a dataset reads the same in the list, its page and search.
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A time as "2026-11-25 13:26" in UTC: stable across the lab's machines and sortable by eye. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** Whole numbers with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** What a dataset is called on pages: its title, else the last segment of its folder path. */
export function displayTitle(d: { title: string; path: string }): string {
  return d.title || d.path.slice(d.path.lastIndexOf("/") + 1);
}
