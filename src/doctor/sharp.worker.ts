// Proves the image library works off the main thread: makes a real gradient, resizes it, encodes JPEG and PNG,
// and decodes both back. Runs as a worker because that is how previews use sharp.
import sharp from "sharp";
import { embeddedAddonInfo } from "../../scripts/sharp-embedded.runtime.ts";
import type { SharpProbeResult } from "./sharp.probe.ts";

declare const self: Worker;

async function probe(): Promise<SharpProbeResult> {
  const t0 = performance.now();
  const width = 640;
  const height = 480;
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = Math.round((255 * x) / (width - 1));
      px[i + 1] = Math.round((255 * y) / (height - 1));
      px[i + 2] = 128 + Math.round(127 * Math.sin((x + y) / 24));
    }
  }
  const resized = sharp(px, { raw: { width, height, channels: 3 } }).resize(320, 240);
  const jpeg = await resized.clone().jpeg({ quality: 85 }).toBuffer();
  const png = await resized.clone().png().toBuffer();
  const [jm, pm] = await Promise.all([sharp(jpeg).metadata(), sharp(png).metadata()]);
  if (jm.format !== "jpeg" || jm.width !== 320 || jm.height !== 240) throw new Error(`JPEG read back as ${jm.format} ${jm.width}x${jm.height}`);
  if (pm.format !== "png" || pm.width !== 320 || pm.height !== 240) throw new Error(`PNG read back as ${pm.format} ${pm.width}x${pm.height}`);
  const embedded = embeddedAddonInfo();
  return {
    vips: sharp.versions.vips,
    sharp: sharp.versions.sharp ?? "",
    width: 320,
    height: 240,
    jpegBytes: jpeg.length,
    pngBytes: png.length,
    ms: Math.round(performance.now() - t0),
    nativeDir: embedded?.dir,
    inWorker: !Bun.isMainThread,
  };
}

self.onmessage = async () => {
  try {
    postMessage({ ok: true, result: await probe() });
  } catch (e) {
    postMessage({ ok: false, error: String((e as Error).stack ?? e) });
  }
};
