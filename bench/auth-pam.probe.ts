// Open-loop latency probe for bench/auth-pam.ts: GET `url` at a fixed rate for `seconds`, in its own process.
// Requests leave on schedule whether or not earlier ones were answered, so a stalled server cannot hide behind
// fewer requests (the "coordinated omission" of a closed-loop tool such as wrk). Prints one JSON line.
// Usage: bun bench/auth-pam.probe.ts URL RATE SECONDS
const [url, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0)) throw new Error("usage: auth-pam.probe.ts URL RATE SECONDS");

const latencies: number[] = [];
let failures = 0;
const inflight: Promise<void>[] = [];
const start = performance.now();
const total = Math.round(rate * seconds);
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await Bun.sleep(wait);
  // Counted from when it left: requests keep leaving on schedule while earlier ones wait, so a stalled server shows.
  const from = performance.now();
  inflight.push(
    fetch(url)
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - from);
        else failures++;
      })
      .catch(() => {
        failures++;
      }),
  );
}
await Promise.all(inflight);
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
console.log(JSON.stringify({ requests: total, answered: latencies.length, failures, p50: pct(50), p95: pct(95), p99: pct(99), max: latencies.at(-1) ?? NaN }));
export {};
