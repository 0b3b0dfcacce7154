// The Prometheus text exposition format (version 0.0.4): counters, gauges and histograms written as lines.

/** The Content-Type of the format, as scrapers expect it. */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Cumulative-on-output bucket counts of observations (seconds), with their sum; observing allocates nothing. */
export class Histogram {
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** A label value with backslash, double quote and newline escaped, as the format demands. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Builds one exposition: each metric family's HELP and TYPE lines once, then its samples. */
export class Exposition {
  private readonly lines: string[] = [];

  /** Starts a family; its samples follow. HELP text escapes backslash and newline. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Record<string, string> | undefined, value: number): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** The `_bucket` (cumulative, ending with +Inf), `_sum` and `_count` samples of a histogram. */
  histogram(name: string, labels: Record<string, string>, h: Histogram): this {
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += h.counts[i]!;
      this.sample(`${name}_bucket`, { ...labels, le: formatValue(le) }, cumulative);
    });
    this.sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count);
    this.sample(`${name}_sum`, labels, h.sum);
    return this.sample(`${name}_count`, labels, h.count);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
