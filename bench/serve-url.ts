// The URL a `mata serve` child prints once it listens; its stdout is drained from then on so it never blocks.

/** Reads a server's stdout until it names its URL; throws with its output if it exits first. */
export async function serveUrl(p: { stdout: ReadableStream<Uint8Array>; stderr?: unknown }): Promise<string> {
  const reader = p.stdout.getReader();
  let out = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) throw new Error(`mata serve exited: ${out}${p.stderr instanceof ReadableStream ? ` ${await new Response(p.stderr).text()}` : ""}`);
    out += new TextDecoder().decode(r.value);
    const m = /serving .* at (http:\/\/\S+)/.exec(out);
    if (m) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return m[1]!;
    }
  }
}
