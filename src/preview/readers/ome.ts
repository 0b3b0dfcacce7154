import { normaliseUnit } from "./dtype.ts";

/** The first image's dimensions and voxel size from an OME-XML ImageDescription (OME-TIFF). */
export interface OmeInfo {
  order: string;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  physical: [number | undefined, number | undefined, number | undefined];
  units: [string, string, string];
}

/** Parses the first <Pixels> element of an OME-XML description; undefined when the text is not OME-XML. */
export function parseOme(description: string): OmeInfo | undefined {
  if (!/<OME[\s>]/.test(description)) return undefined;
  const pixels = description.match(/<(?:\w+:)?Pixels\b([^>]*)>/)?.[1];
  if (!pixels) return undefined;
  const attr = (name: string) => pixels.match(new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`))?.[1];
  const int = (name: string) => {
    const v = Number(attr(name));
    return Number.isInteger(v) && v > 0 ? v : 1;
  };
  const num = (name: string) => {
    const v = Number(attr(name));
    return attr(name) !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const unit = (name: string) => normaliseUnit(attr(name)) ?? "µm";
  const order = (attr("DimensionOrder") ?? "XYZCT").toUpperCase();
  if (!/^XY[ZCT]{3}$/.test(order) || new Set(order).size !== 5) return undefined;
  return {
    order,
    sizeC: int("SizeC"),
    sizeZ: int("SizeZ"),
    sizeT: int("SizeT"),
    physical: [num("PhysicalSizeX"), num("PhysicalSizeY"), num("PhysicalSizeZ")],
    units: [unit("PhysicalSizeXUnit"), unit("PhysicalSizeYUnit"), unit("PhysicalSizeZUnit")],
  };
}

/** The IFD index of plane (c, z, t) for an OME dimension order such as "XYCZT" (C varies fastest). */
export function omePlaneIndex(ome: OmeInfo, c: number, z: number, t: number): number {
  const size: Record<string, number> = { C: ome.sizeC, Z: ome.sizeZ, T: ome.sizeT };
  const at: Record<string, number> = { C: c, Z: z, T: t };
  let index = 0;
  let stride = 1;
  for (const dim of ome.order.slice(2)) {
    index += at[dim]! * stride;
    stride *= size[dim]!;
  }
  return index;
}
