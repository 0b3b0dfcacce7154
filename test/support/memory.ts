// How much this process's memory grows while something runs: the suite runs every file in one process, so its
// lifetime peak (resourceUsage().maxRSS) says nothing about one test.

/** Samples the resident size every few milliseconds while `run` goes; resolves with the most it grew over the start. */
export async function growthDuring(run: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage().rss;
  let most = start;
  const timer = setInterval(() => (most = Math.max(most, process.memoryUsage().rss)), 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(most, process.memoryUsage().rss) - start;
}
