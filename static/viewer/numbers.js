// Number helpers of the slice viewer: clamping, and the lengths its readout and scale bar show.

/**
 * @param {number} v
 * @param {number} lo
 * @param {number} hi
 */
export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * A nice round length (1, 2 or 5 times a power of ten) no longer than max.
 * @param {number} max
 */
export function niceLength(max) {
  const p = Math.pow(10, Math.floor(Math.log10(max)));
  for (const step of [5, 2, 1]) if (step * p <= max) return step * p;
  return p;
}

/**
 * Formats a length given in nanometres in the unit that reads best; voxel units stay "px".
 * @param {number} nm
 * @param {string} unit
 */
export function formatLength(nm, unit) {
  if (unit === "px") return Math.round(nm) + " px";
  if (nm >= 1e7) return +(nm / 1e7).toPrecision(3) + " cm";
  if (nm >= 1e6) return +(nm / 1e6).toPrecision(3) + " mm";
  if (nm >= 1e3) return +(nm / 1e3).toPrecision(3) + " \u00b5m";
  return +nm.toPrecision(3) + " nm";
}
