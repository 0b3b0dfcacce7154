// A minimal baseline TIFF writer for grayscale slices with an ImageJ description, which sharp cannot set
// (its TIFF output has no ImageDescription), so the demo stacks carry their voxel spacing like real ones.

/** One grayscale slice; `spacing` is the voxel size in `unit` (in-plane via X/YResolution, z in the description). */
export interface TiffSlice {
  width: number;
  height: number;
  pixels: Uint8Array | Uint16Array;
  spacing: { xy: number; z: number; unit: string };
  /** Extra ImageJ description lines, e.g. { images: 64 } or { min: 0, max: 65535 }. */
  extra?: Record<string, string | number>;
}

const TYPE = { SHORT: 3, LONG: 4, ASCII: 2, RATIONAL: 5 } as const;

/** Encodes one uncompressed little-endian TIFF page (strip layout), readable by ImageJ, libvips and geotiff. */
export function encodeTiffSlice(s: TiffSlice): Uint8Array {
  const bits = s.pixels instanceof Uint16Array ? 16 : 8;
  if (s.pixels.length !== s.width * s.height) throw new Error(`slice has ${s.pixels.length} pixels, expected ${s.width}x${s.height}`);
  const extra = Object.entries(s.extra ?? {})
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
  const description = new TextEncoder().encode(`ImageJ=1.54f\n${extra}unit=${s.spacing.unit}\nspacing=${s.spacing.z}\n\0`);
  const entries: [tag: number, type: number, count: number, value: number][] = [];
  const tagCount = 14;
  const ifdOffset = 8;
  const ifdSize = 2 + tagCount * 12 + 4;
  const descOffset = ifdOffset + ifdSize;
  const ratOffset = descOffset + description.length + (description.length % 2);
  const dataOffset = ratOffset + 16;
  const dataBytes = s.pixels.length * (bits / 8);
  entries.push(
    [256, TYPE.LONG, 1, s.width],
    [257, TYPE.LONG, 1, s.height],
    [258, TYPE.SHORT, 1, bits],
    [259, TYPE.SHORT, 1, 1],
    [262, TYPE.SHORT, 1, 1],
    [270, TYPE.ASCII, description.length, descOffset],
    [273, TYPE.LONG, 1, dataOffset],
    [277, TYPE.SHORT, 1, 1],
    [278, TYPE.LONG, 1, s.height],
    [279, TYPE.LONG, 1, dataBytes],
    [282, TYPE.RATIONAL, 1, ratOffset],
    [283, TYPE.RATIONAL, 1, ratOffset + 8],
    [296, TYPE.SHORT, 1, 1],
    [339, TYPE.SHORT, 1, 1],
  );
  const out = new Uint8Array(dataOffset + dataBytes);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49], 0);
  v.setUint16(2, 42, true);
  v.setUint32(4, ifdOffset, true);
  v.setUint16(ifdOffset, entries.length, true);
  entries.forEach(([tag, type, count, value], i) => {
    const at = ifdOffset + 2 + i * 12;
    v.setUint16(at, tag, true);
    v.setUint16(at + 2, type, true);
    v.setUint32(at + 4, count, true);
    if (type === TYPE.SHORT) v.setUint16(at + 8, value, true);
    else v.setUint32(at + 8, value, true);
  });
  v.setUint32(ifdOffset + 2 + entries.length * 12, 0, true);
  out.set(description, descOffset);
  // Pixels per unit as a rational with a fixed denominator, as ImageJ writes it (ResolutionUnit none).
  const den = 1_000_000;
  const num = Math.max(1, Math.round(den / s.spacing.xy));
  for (const o of [ratOffset, ratOffset + 8]) {
    v.setUint32(o, num, true);
    v.setUint32(o + 4, den, true);
  }
  if (bits === 16) {
    for (let i = 0; i < s.pixels.length; i++) v.setUint16(dataOffset + i * 2, s.pixels[i]!, true);
  } else {
    out.set(s.pixels as Uint8Array, dataOffset);
  }
  return out;
}
