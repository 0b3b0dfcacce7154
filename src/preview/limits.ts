// The caps of one preview build (config `max_voxels`, `max_tiles`, `max_triangles`, `max_vertices`), checked from
// what a header claims before any buffer is allocated or tile written: headers are untrusted input.
import type { PreviewLimits } from "../config.ts";
import { PreviewLimitError } from "../errors.ts";
import { planLevels } from "./pyramid.ts";
import { TILE } from "./layout.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

/** How many tiles a pyramid of this volume writes: every level, XY tiles of each slice and, for "xyz", XZ and YZ tiles of each row and column. */
export function pyramidTileCount(w: number, h: number, d: number, orientations: "xyz" | "xy"): number {
  const xyz = orientations === "xyz" && d > 1;
  let tiles = 0;
  for (const [lw, lh, ld] of planLevels(w, h, d, xyz)) {
    const cx = Math.ceil(lw / TILE);
    const cy = Math.ceil(lh / TILE);
    tiles += cx * cy * ld;
    if (xyz) tiles += (lh * cx + lw * cy) * Math.ceil(ld / TILE);
  }
  return tiles;
}

/** Refuses a volume whose claimed size is over `max_voxels`, or whose pyramid would be over `max_tiles`. */
export function checkVolumeLimits(
  file: string,
  dims: { width: number; height: number; depth: number },
  limits: PreviewLimits,
  orientations: "xyz" | "xy" = "xyz",
): void {
  const { width: w, height: h, depth: d } = dims;
  const voxels = w * h * d;
  const size = `${fmt(w)} x ${fmt(h)} x ${fmt(d)}`;
  if (!(voxels <= limits.maxVoxels))
    throw new PreviewLimitError(`${file}: ${size} = ${fmt(voxels)} voxels is over the limit max_voxels = ${fmt(limits.maxVoxels)}; no preview is built`);
  const tiles = pyramidTileCount(w, h, d, orientations);
  if (!(tiles <= limits.maxTiles))
    throw new PreviewLimitError(
      `${file}: a preview of ${size} voxels needs ${fmt(tiles)} tiles, over the limit max_tiles = ${fmt(limits.maxTiles)}; no preview is built`,
    );
}
