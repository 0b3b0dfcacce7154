// An H&E-stained lung section look-alike: pink stroma, white air spaces, purple nuclei.
import { seededRandom } from "./random.ts";

/** Interleaved 8-bit RGB pixels of a synthetic histology field of view. */
export function histologyPixels(width = 1024, height = 768): Uint8Array {
  const rand = seededRandom(3);
  const px = new Uint8Array(width * height * 3);
  const spaces = Array.from({ length: 38 }, () => ({ x: rand() * width, y: rand() * height, r: 30 + rand() * 70, squash: 0.6 + rand() * 0.5 }));
  const nuclei = Array.from({ length: 2600 }, () => ({ x: rand() * width, y: rand() * height, r: 2.5 + rand() * 3.5, dark: rand() }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grain = (rand() - 0.5) * 18 + 10 * Math.sin(x / 37 + Math.sin(y / 53) * 2);
      let r = 236 + grain;
      let g = 170 + grain;
      let b = 200 + grain * 0.6;
      for (const s of spaces) {
        if (((x - s.x) / s.r) ** 2 + ((y - s.y) / (s.r * s.squash)) ** 2 < 1) {
          r = 248 + grain * 0.2;
          g = 244 + grain * 0.2;
          b = 248 + grain * 0.2;
          break;
        }
      }
      px[i] = Math.max(0, Math.min(255, r));
      px[i + 1] = Math.max(0, Math.min(255, g));
      px[i + 2] = Math.max(0, Math.min(255, b));
    }
  }
  for (const n of nuclei) {
    const x0 = Math.max(0, Math.floor(n.x - n.r));
    const x1 = Math.min(width - 1, Math.ceil(n.x + n.r));
    const y0 = Math.max(0, Math.floor(n.y - n.r));
    const y1 = Math.min(height - 1, Math.ceil(n.y + n.r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if ((x - n.x) ** 2 + (y - n.y) ** 2 > n.r * n.r) continue;
        const i = (y * width + x) * 3;
        // Nuclei sit in tissue, not in the air spaces.
        if (px[i + 1]! > 235) continue;
        px[i] = 70 + n.dark * 40;
        px[i + 1] = 40 + n.dark * 30;
        px[i + 2] = 120 + n.dark * 40;
      }
    }
  }
  return px;
}
