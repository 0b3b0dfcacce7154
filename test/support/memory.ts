// How much this process's memory grows while something runs: the suite runs every file in one process, so its
// lifetime peak (resourceUsage().maxRSS) says nothing about one test.

/** Samples the resident size every few milliseconds while `run` goes; resolves with the most it grew over the start. */
export async function growthDuring(run: () => Promise<void>): Promise<number> {
  // Garbage is collected before and every 100 ms while sampling: after earlier tests of the same process have had a
  // large heap, the engine lets dead objects pile up for longer, which is not memory the code under test holds.
  Bun.gc(true);
  const start = process.memoryUsage().rss;
  let most = start;
  let ticks = 0;
  const timer = setInterval(() => {
    most = Math.max(most, process.memoryUsage().rss);
    if (++ticks % 20 === 0) Bun.gc(true);
  }, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(most, process.memoryUsage().rss) - start;
}
