// Plain-text output of the client verbs: sizes people read at a glance and columns that line up.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** A byte count in binary units ("512 B", "8.0 MiB"), as file managers on the share show sizes. */
export function formatBytes(bytes: number): string {
  let n = bytes;
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  if (unit === 0) return `${n} B`;
  // 1023.96 KiB would round to "1024.0 KiB": show the next unit instead.
  if (Number(n.toFixed(1)) >= 1024 && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${n.toFixed(1)} ${UNITS[unit]}`;
}

/** Columns padded to their widest cell, so scripts can `awk` them and people can scan them; "right" columns are numbers. */
export function table(header: string[], rows: string[][], align: ("left" | "right")[] = []): string {
  const all = [header, ...rows].map((r) => r.map(oneLine));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) => r.map((cell, i) => (align[i] === "right" ? cell.padStart(widths[i]!) : i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/** A cell on one line: line breaks and tabs in titles would break the columns. */
function oneLine(s: string): string {
  return s.replace(/[\t\r\n]+/g, " ");
}
