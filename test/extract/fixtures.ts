// Scanner files generated from their documented layouts (Nikon CT Pro .xtekct, Bruker SkyScan logs) and DICOM files
// carrying chosen attributes, for the extraction tests; real samples come from the Debian packages the readers use.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { concat, volumeBytes } from "../readers/fixtures.ts";

export const ITK = "/usr/share/doc/insighttoolkit5-examples/examples/Data";
export const PYDICOM = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
export const NIBABEL = "/usr/lib/python3/dist-packages/nibabel/tests/data";
export const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";

function write(file: string, data: Uint8Array | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

/**
 * A Nikon CT Pro 3D reconstruction: `<name>.xtekct` ([XTekCT] section as CT Pro writes it, CRLF lines) and a uint16
 * `<name>.vol` of w x h x d voxels.
 */
export function writeNikon(dir: string, name: string, o: { w: number; h: number; d: number; extra?: string[] }): void {
  write(
    path.join(dir, `${name}.xtekct`),
    [
      "[XTekCT]",
      `Name=${name}`,
      "InputSeparator=,",
      `VoxelsX=${o.w}`,
      `VoxelsY=${o.h}`,
      `VoxelsZ=${o.d}`,
      "VoxelSizeX=0.0125",
      "VoxelSizeY=0.0125",
      "VoxelSizeZ=0.0125",
      "Units=mm",
      "Projections=3142",
      "InitialAngle=0",
      "AngularStep=0.114577",
      "SrcToObject=39.5826",
      "SrcToDetector=1127.82",
      "DetectorPixelsX=2000",
      "DetectorPixelsY=2000",
      "DetectorPixelSizeX=0.2",
      "XraykV=90",
      "XrayuA=112",
      "Filter_ThicknessMM=0.5",
      "Filter_Material=Copper",
      ...(o.extra ?? []),
      "",
    ].join("\r\n"),
  );
  write(path.join(dir, `${name}.vol`), volumeBytes("uint16", o.w, o.h, o.d, true));
}

/** A Bruker SkyScan reconstruction log (`<prefix>_rec.log`) as NRecon writes it: [System], [Acquisition], [Reconstruction]. */
export function skyScanLog(o: { pixelUm: number; width: number; height: number }): string {
  return [
    "[System]",
    "Scanner=SkyScan1172",
    "Instrument S/N=09G03082",
    "Software Version=1.5 (build 14)",
    "[User]",
    "User Name=operator",
    "[Acquisition]",
    "Data directory=D:\\Results\\femur",
    "Filename Prefix=femur_",
    "Number of Files=  601",
    "Source Voltage (kV)=  80",
    "Source Current (uA)= 124",
    "Number of Rows=  1332",
    "Number of Columns=  2000",
    `Image Pixel Size (um)= ${o.pixelUm}`,
    "Exposure (ms)=  1180",
    "Rotation Step (deg)=0.400",
    "Frame Averaging=ON (4)",
    "Filter=Al 0.5 mm",
    "Study Date and Time=Jan 04, 2013  13:48:57",
    "[Reconstruction]",
    "Reconstruction Program=NRecon",
    `Pixel Size (um)=${o.pixelUm}`,
    `Result Image Width (pixels)=${o.width}`,
    `Result Image Height (pixels)=${o.height}`,
    "",
  ].join("\r\n");
}

type Element = { tag: [number, number]; vr: string; value: string | Uint8Array | Element[][] };

const enc = new TextEncoder();

/** One explicit-VR little-endian element (a sequence of items when `value` is a list of item element lists). */
function element(e: Element): Uint8Array {
  const [group, el] = e.tag;
  let value: Uint8Array;
  if (Array.isArray(e.value)) {
    const items = e.value.map((item) => {
      const body = concat(item.map(element));
      const head = new DataView(new ArrayBuffer(8));
      head.setUint16(0, 0xfffe, true);
      head.setUint16(2, 0xe000, true);
      head.setUint32(4, body.length, true);
      return concat([new Uint8Array(head.buffer), body]);
    });
    value = concat(items);
  } else if (typeof e.value === "string") {
    const s = e.value.length % 2 ? e.value + (e.vr === "UI" ? "\0" : " ") : e.value;
    value = enc.encode(s);
  } else value = e.value;
  const long = ["OB", "OW", "SQ", "UN", "UT"].includes(e.vr);
  const head = new DataView(new ArrayBuffer(long ? 12 : 8));
  head.setUint16(0, group, true);
  head.setUint16(2, el, true);
  new Uint8Array(head.buffer).set(enc.encode(e.vr), 4);
  if (long) head.setUint32(8, value.length, true);
  else head.setUint16(6, value.length, true);
  return concat([new Uint8Array(head.buffer), value]);
}

const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);

/** A 4x4 uint16 CT slice (DICOM Part 10, explicit VR LE) with the given extra attributes, sorted by tag as DICOM requires. */
export function writeDicomWith(file: string, extra: Element[]): string {
  const meta = element({ tag: [0x0002, 0x0010], vr: "UI", value: "1.2.840.10008.1.2.1" });
  const base: Element[] = [
    { tag: [0x0020, 0x000e], vr: "UI", value: "1.2.3.4.5" },
    { tag: [0x0028, 0x0002], vr: "US", value: us(1) },
    { tag: [0x0028, 0x0010], vr: "US", value: us(4) },
    { tag: [0x0028, 0x0011], vr: "US", value: us(4) },
    { tag: [0x0028, 0x0030], vr: "DS", value: "0.5\\0.5" },
    { tag: [0x0028, 0x0100], vr: "US", value: us(16) },
    { tag: [0x0028, 0x0101], vr: "US", value: us(16) },
    { tag: [0x0028, 0x0103], vr: "US", value: us(0) },
    { tag: [0x7fe0, 0x0010], vr: "OW", value: new Uint8Array(32).fill(7) },
  ];
  const all = [...base, ...extra].sort((a, b) => a.tag[0] - b.tag[0] || a.tag[1] - b.tag[1]);
  const preamble = new Uint8Array(132);
  preamble.set(enc.encode("DICM"), 128);
  return write(file, concat([preamble, meta, ...all.map(element)]));
}

/** Identifying values no tag, search result, event, audit entry or log line may ever show. */
export const SECRETS = {
  name: "Quixote^Dulcinea",
  id: "MRN-7731-QX",
  birth: "19610423",
  address: "17 Calle Toboso, La Mancha",
  requested: "RQ-55-ZEBRA",
};

/** The identifying attributes a CT slice of Dulcinea's carries (one of them inside a sequence), and its settings. */
export function identifyingAttributes(): Element[] {
  return [
    { tag: [0x0008, 0x0020], vr: "DA", value: "20190311" },
    { tag: [0x0008, 0x0030], vr: "TM", value: "101512" },
    { tag: [0x0008, 0x0060], vr: "CS", value: "CT" },
    { tag: [0x0008, 0x0070], vr: "LO", value: "Siemens" },
    { tag: [0x0008, 0x1090], vr: "LO", value: "SOMATOM Force" },
    { tag: [0x0010, 0x0010], vr: "PN", value: SECRETS.name },
    { tag: [0x0010, 0x0020], vr: "LO", value: SECRETS.id },
    { tag: [0x0010, 0x0030], vr: "DA", value: SECRETS.birth },
    { tag: [0x0010, 0x1040], vr: "LO", value: SECRETS.address },
    // Present but empty (type 2), as a de-identified file keeps it: not a finding.
    { tag: [0x0008, 0x0090], vr: "PN", value: "" },
    { tag: [0x0018, 0x0050], vr: "DS", value: "0.6" },
    { tag: [0x0018, 0x0060], vr: "DS", value: "120" },
    { tag: [0x0018, 0x1152], vr: "IS", value: "250" },
    { tag: [0x0040, 0x0275], vr: "SQ", value: [[{ tag: [0x0040, 0x1001], vr: "SH", value: SECRETS.requested }]] },
  ];
}
