// A hostile share user: swaps folders for symlinks to outside files atomically, over and over (swapper.py).
import { rmSync, symlinkSync } from "node:fs";
import path from "node:path";

export interface Swapper {
  /** Stops the swapping with every folder back in its place, and removes the symlinks. */
  stop(): Promise<void>;
}

/** Starts swapping each folder with a symlink to its outside target until stop(). */
export async function startSwapper(pairs: [folder: string, outsideTarget: string][]): Promise<Swapper> {
  const args: string[] = [];
  for (const [folder, target] of pairs) {
    const link = `${folder}.swap-link`;
    symlinkSync(target, link);
    args.push(folder, link);
  }
  const proc = Bun.spawn(["python3", path.join(import.meta.dir, "swapper.py"), ...args], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).startsWith("ready")) throw new Error(`swapper did not start: ${await new Response(proc.stderr).text()}`);
  return {
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      for (const [folder] of pairs) rmSync(`${folder}.swap-link`, { force: true });
      if (code !== 0) throw new Error(`swapper failed (${code}): ${await new Response(proc.stderr).text()}`);
    },
  };
}
