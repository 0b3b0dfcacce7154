-- wrk script: print p95 latency (microseconds) and the request count in a machine-readable line.
done = function(summary, latency, requests)
  io.write(string.format("RESULT p95_us=%d p50_us=%d requests=%d errors=%d\n", latency:percentile(95), latency:percentile(50), summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
