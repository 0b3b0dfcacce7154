import { inflateSync } from "node:zlib";
import { addDecoder, BaseDecoder } from "geotiff";
import { MAX_SLICE_BYTES } from "./dtype.ts";

/** The decoded size of one strip or tile from geotiff's decoder parameters (0 when they do not say). */
function blockBytes(parameters: unknown): number {
  const p = parameters as {
    tileWidth?: number;
    tileHeight?: number;
    bitsPerSample?: number | ArrayLike<number>;
    planarConfiguration?: number;
  };
  const bits = typeof p.bitsPerSample === "number" ? p.bitsPerSample : Array.from(p.bitsPerSample ?? [8]).reduce((a, b) => a + b, 0);
  const bitsPerPixel = p.planarConfiguration === 2 ? (typeof p.bitsPerSample === "number" ? p.bitsPerSample : Number(p.bitsPerSample?.[0] ?? 8)) : bits;
  const bytes = Math.ceil(((p.tileWidth ?? 0) * bitsPerPixel) / 8) * (p.tileHeight ?? 0);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

/**
 * How far a block may decode: what its layout needs and a little more (some writers pad), never what a stream
 * of a few KB can inflate to (a deflate bomb of 1 GiB would otherwise be allocated whole).
 */
const decodeLimit = (expected: number) => (expected > 0 ? expected + 65536 : MAX_SLICE_BYTES);

/**
 * Deflate through the runtime's native zlib instead of geotiff's default pure-JS inflate (pako):
 * about 5x faster on large 16-bit slices (178 -> 36 ms for 2048x2048).
 */
class NativeDeflateDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const limit = decodeLimit(blockBytes(this.parameters));
    let out: Buffer;
    try {
      out = inflateSync(new Uint8Array(buffer), { maxOutputLength: limit });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ERR_BUFFER_TOO_LARGE") throw new Error(`corrupt Deflate data: a block inflates to more than ${limit} bytes`);
      throw new Error(`corrupt Deflate data (${(e as Error).message})`);
    }
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}

/** TIFF LZW with typed-array tables (geotiff's own decoder builds arrays of arrays and is several times slower). */
class FastLzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const expected = blockBytes(this.parameters);
    try {
      return decodeLzw(new Uint8Array(buffer), expected, decodeLimit(expected)).buffer as ArrayBuffer;
    } catch (e) {
      throw new Error(`corrupt LZW data (${(e as Error).message})`);
    }
  }
}

/** Decodes a TIFF LZW block (MSB-first codes, 9-12 bits, early change); throws on an invalid code or past `limit` bytes. */
export function decodeLzw(input: Uint8Array, expected = 0, limit = MAX_SLICE_BYTES): Uint8Array {
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const lengths = new Uint16Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    lengths[i] = 1;
    first[i] = i;
  }
  let out = new Uint8Array(Math.max(expected, 1024));
  let op = 0;
  const ensure = (n: number) => {
    if (op + n <= out.length) return;
    if (op + n > limit) throw new Error(`the block decodes to more than ${limit} bytes`);
    const bigger = new Uint8Array(Math.max(out.length * 2, op + n));
    bigger.set(out.subarray(0, op));
    out = bigger;
  };
  const totalBits = input.length * 8;
  let bitPos = 0;
  let width = 9;
  let next = 258;
  let prev = -1;
  while (bitPos + width <= totalBits) {
    const byte = bitPos >>> 3;
    const chunk = (input[byte]! << 16) | ((input[byte + 1] ?? 0) << 8) | (input[byte + 2] ?? 0);
    const code = (chunk >>> (24 - (bitPos & 7) - width)) & ((1 << width) - 1);
    bitPos += width;
    if (code === 257) break;
    if (code === 256) {
      width = 9;
      next = 258;
      prev = -1;
      continue;
    }
    if (prev === -1) {
      if (code > 255) throw new Error(`invalid first code ${code}`);
      ensure(1);
      out[op++] = code;
      prev = code;
      continue;
    }
    let len: number;
    let head: number;
    if (code < next) {
      len = lengths[code]!;
      ensure(len);
      let c = code;
      for (let k = op + len - 1; k >= op; k--) {
        out[k] = suffix[c]!;
        c = prefix[c]!;
      }
      head = first[code]!;
    } else if (code === next) {
      len = lengths[prev]! + 1;
      ensure(len);
      let c = prev;
      for (let k = op + len - 2; k >= op; k--) {
        out[k] = suffix[c]!;
        c = prefix[c]!;
      }
      head = first[prev]!;
      out[op + len - 1] = head;
    } else {
      throw new Error(`code ${code} is beyond the table (${next})`);
    }
    op += len;
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = head;
      lengths[next] = lengths[prev]! + 1;
      first[next] = first[prev]!;
      next++;
    }
    if (next >= (1 << width) - 1 && width < 12) width++;
    prev = code;
  }
  return out.subarray(0, op).slice();
}

let registered = false;

/** Installs the faster codecs into geotiff's registry (idempotent). */
export function registerTiffCodecs(): void {
  if (registered) return;
  registered = true;
  addDecoder([8, 32946], async () => NativeDeflateDecoder as never, undefined, false);
  addDecoder(5, async () => FastLzwDecoder as never, undefined, false);
}
