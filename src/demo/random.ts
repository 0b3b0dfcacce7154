/** A seeded generator (mulberry32), so the demo data are the same on every machine and every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Roughly normal noise (sum of uniforms), cheap enough for millions of voxels. */
export function noise(rand: () => number, sigma: number): number {
  return (rand() + rand() + rand() - 1.5) * 2 * sigma;
}
