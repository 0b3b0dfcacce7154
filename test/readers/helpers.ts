import { expect } from "bun:test";
import type { DType, VolumeSource } from "../../src/preview/readers/reader.types.ts";
import { phantom } from "./fixtures.ts";

/** Reads slice z and compares every voxel with the phantom's known value, reporting the first mismatch. */
export async function expectPhantomSlice(source: VolumeSource, z: number, dtype: DType = source.dtype): Promise<void> {
  const slice = await source.readSlice(z);
  expect(slice.length).toBe(source.width * source.height);
  for (let y = 0; y < source.height; y++) {
    for (let x = 0; x < source.width; x++) {
      const want = dtype === "float32" ? Math.fround(phantom(dtype, x, y, z)) : phantom(dtype, x, y, z);
      const got = slice[y * source.width + x];
      if (got !== want) throw new Error(`${source.file} z=${z} (${x},${y}): got ${got}, want ${want}`);
    }
  }
}

/** The VolumeReadError message a promise rejects with (fails the test when it resolves or throws something else). */
export async function readError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).name).toBe("VolumeReadError");
    return (e as Error).message;
  }
  throw new Error("expected a VolumeReadError, the call succeeded");
}

/** Loads a C-order uint8 .npy array (numpy's reference copy of a sample image) to compare a reader against. */
export async function loadNpyU8(file: string): Promise<{ shape: number[]; data: Uint8Array }> {
  const bytes = await Bun.file(file).bytes();
  if (bytes[0] !== 0x93 || new TextDecoder().decode(bytes.subarray(1, 6)) !== "NUMPY") throw new Error(`${file}: not a .npy file`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  if (!header.includes("'|u1'") || header.includes("'fortran_order': True")) throw new Error(`${file}: not a C-order uint8 array`);
  const shape = (header.match(/'shape': \(([^)]*)\)/)?.[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  return { shape, data: bytes.subarray(start) };
}
