import type { SliceData, VolumeSource } from "./reader.types.ts";
import { throwIfAborted } from "./file-io.ts";
import { churned } from "../../platform/gc.ts";

/** Options for sampling a volume's values. */
export interface WindowOptions {
  /** Lower and upper percentiles, default 0.5 and 99.5. */
  low?: number;
  high?: number;
  /** How many evenly spaced slices to read, default 16. */
  slices?: number;
  /** At most this many voxels counted per slice (an even stride over the slice), default 1,048,576. */
  samplesPerSlice?: number;
  signal?: AbortSignal;
}

const BINS = 65536;

/**
 * The display window from the value distribution of a sample of slices, for sources whose header has no
 * data range. Memory is one slice plus a 65,536-bin histogram: exact bins for 8/16-bit data, an
 * adaptive range (rebinned when a slice widens it) for 32-bit and float data. The result always has high > low.
 */
export async function percentileWindow(source: VolumeSource, opts: WindowOptions = {}): Promise<[number, number]> {
  const low = opts.low ?? 0.5;
  const high = opts.high ?? 99.5;
  const n = Math.max(1, Math.min(source.depth, opts.slices ?? 16));
  const perSlice = Math.max(1, opts.samplesPerSlice ?? 1 << 20);
  const hist = histogramFor(source.dtype);
  for (let i = 0; i < n; i++) {
    throwIfAborted(opts.signal);
    const z = Math.min(source.depth - 1, Math.floor(((i + 0.5) * source.depth) / n));
    const slice = await source.readSlice(z, opts.signal);
    hist.add(slice, Math.max(1, Math.ceil(slice.length / perSlice)));
    churned(slice.byteLength);
  }
  let [lo, hi] = hist.percentiles(low / 100, high / 100);
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}

/** The window to use for a source: its header's data range when it has one, else the sampled percentiles. */
export async function displayWindow(source: VolumeSource, opts: WindowOptions = {}): Promise<{ window: [number, number]; from: "header" | "percentiles" }> {
  if (source.dataRange && source.dataRange[1] > source.dataRange[0]) return { window: source.dataRange, from: "header" };
  return { window: await percentileWindow(source, opts), from: "percentiles" };
}

interface Histogram {
  add(values: SliceData, step: number): void;
  percentiles(a: number, b: number): [number, number];
}

function histogramFor(dtype: VolumeSource["dtype"]): Histogram {
  switch (dtype) {
    case "uint8":
      return new ExactHistogram(256, 0);
    case "int8":
      return new ExactHistogram(256, 128);
    case "uint16":
      return new ExactHistogram(65536, 0);
    case "int16":
      return new ExactHistogram(65536, 32768);
    default:
      return new AdaptiveHistogram();
  }
}

/** One bin per possible value: exact percentiles for 8- and 16-bit data. */
class ExactHistogram implements Histogram {
  private counts: Float64Array;
  private total = 0;
  constructor(
    size: number,
    private readonly bias: number,
  ) {
    this.counts = new Float64Array(size);
  }
  add(values: SliceData, step: number): void {
    const c = this.counts;
    const bias = this.bias;
    for (let i = 0; i < values.length; i += step) c[(values[i] as number) + bias]!++;
    this.total += Math.ceil(values.length / step);
  }
  percentiles(a: number, b: number): [number, number] {
    return [this.at(a), this.at(b)];
  }
  private at(q: number): number {
    const target = q * this.total;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) {
      sum += this.counts[i]!;
      if (sum > target || (sum === this.total && sum > 0)) return i - this.bias;
    }
    return 0;
  }
}

/** A fixed number of bins over a range that grows (rebinning) as slices reveal wider values. */
class AdaptiveHistogram implements Histogram {
  private counts = new Float64Array(BINS);
  private lo = 0;
  private width = 0;
  private total = 0;
  private min = Infinity;
  private max = -Infinity;

  add(values: SliceData, step: number): void {
    let smin = Infinity;
    let smax = -Infinity;
    for (let i = 0; i < values.length; i += step) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      if (v < smin) smin = v;
      if (v > smax) smax = v;
    }
    if (smin === Infinity) return;
    this.cover(smin, smax);
    const c = this.counts;
    const lo = this.lo;
    const inv = 1 / this.width;
    for (let i = 0; i < values.length; i += step) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      c[Math.min(BINS - 1, Math.floor((v - lo) * inv))]!++;
      this.total++;
    }
  }

  private cover(smin: number, smax: number): void {
    const min = Math.min(this.min, smin);
    const max = Math.max(this.max, smax);
    if (this.width > 0 && min >= this.lo && max < this.lo + this.width * BINS) {
      this.min = min;
      this.max = max;
      return;
    }
    const width = Math.max((max - min) / (BINS - 1), Math.abs(min) * 1e-12, Number.MIN_VALUE * 2 ** 60);
    const next = new Float64Array(BINS);
    if (this.width > 0) {
      for (let i = 0; i < BINS; i++) {
        const count = this.counts[i]!;
        if (count === 0) continue;
        const centre = this.lo + (i + 0.5) * this.width;
        next[Math.min(BINS - 1, Math.max(0, Math.floor((centre - min) / width)))]! += count;
      }
    }
    this.counts = next;
    this.lo = min;
    this.width = width;
    this.min = min;
    this.max = max;
  }

  percentiles(a: number, b: number): [number, number] {
    if (this.total === 0) return [0, 1];
    return [this.at(a), this.at(b)];
  }

  private at(q: number): number {
    const target = q * this.total;
    let sum = 0;
    for (let i = 0; i < BINS; i++) {
      sum += this.counts[i]!;
      if (sum > target || sum === this.total) {
        const v = this.lo + (i + 0.5) * this.width;
        return Math.min(this.max, Math.max(this.min, v));
      }
    }
    return this.max;
  }
}
