// The IFD chain of a TIFF, walked by its offsets alone before geotiff parses anything: geotiff counts pages by
// following next-IFD offsets until one is 0, so a chain that loops (an IFD pointing at itself or back at an earlier
// one) never ends and fills memory with parsed directories.
import { fstat } from "node:fs";
import { promisify } from "node:util";
import { VolumeReadError } from "./reader.types.ts";
import { readUpTo } from "./file-io.ts";

const statFd = promisify(fstat);

/** More pages than any stack a person would preview; beyond it a chain is taken for corrupt. */
export const MAX_TIFF_PAGES = 1_000_000;

async function bytesAt(fd: number, offset: number, length: number): Promise<DataView> {
  const buf = await readUpTo(fd, offset, length);
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The number of pages (IFDs) of the TIFF open as `fd`, after checking the header and that every IFD of the chain
 * lies inside the file and none is met twice. Throws a VolumeReadError naming `rel` and the fault.
 */
export async function countTiffPages(fd: number, rel: string): Promise<number> {
  const fail = (why: string) => new VolumeReadError(`${rel}: ${why}`, rel);
  const size = (await statFd(fd)).size;
  const head = await bytesAt(fd, 0, 16);
  if (head.byteLength < 8) throw fail(`not a TIFF file (${head.byteLength} bytes)`);
  const order = head.getUint16(0, false);
  if (order !== 0x4949 && order !== 0x4d4d) throw fail(`not a TIFF file (the byte order mark is neither "II" nor "MM")`);
  const le = order === 0x4949;
  const version = head.getUint16(2, le);
  if (version !== 42 && version !== 43) throw fail(`not a TIFF file (version ${version}, expected 42 or 43)`);
  const big = version === 43;
  if (big && head.byteLength < 16) throw fail("truncated: the BigTIFF header is cut short");
  // Classic: 2-byte entry count, 12-byte entries, 4-byte offsets; BigTIFF: 8, 20 and 8.
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  const offsetBytes = big ? 8 : 4;
  const u = (v: DataView, at: number, bytes: number) =>
    bytes === 2 ? v.getUint16(at, le) : bytes === 4 ? v.getUint32(at, le) : Number(v.getBigUint64(at, le));
  let offset = u(head, big ? 8 : 4, offsetBytes);
  const seen = new Map<number, number>();
  let pages = 0;
  while (offset !== 0) {
    const where = pages === 0 ? "the first IFD" : `IFD ${pages}`;
    if (offset < 8 || offset + countBytes > size) throw fail(`truncated or corrupt: ${where} lies at byte ${offset}, outside the file (${size} bytes)`);
    const before = seen.get(offset);
    if (before !== undefined) throw fail(`corrupt: the IFD chain loops (IFD ${pages} is IFD ${before} again)`);
    if (pages === MAX_TIFF_PAGES) throw fail(`corrupt: the IFD chain has more than ${MAX_TIFF_PAGES.toLocaleString("en-US")} pages`);
    seen.set(offset, pages);
    const entries = u(await bytesAt(fd, offset, countBytes), 0, countBytes);
    const nextAt = offset + countBytes + entries * entryBytes;
    if (nextAt + offsetBytes > size) throw fail(`truncated: ${where} has ${entries} entries, more than the file holds`);
    offset = u(await bytesAt(fd, nextAt, offsetBytes), 0, offsetBytes);
    pages++;
  }
  if (pages === 0) throw fail("not a TIFF file (it has no IFD)");
  return pages;
}
