// A real file system that fails on demand: test/support/faulty-fs.py mounted over FUSE (Debian's python3-fusepy).
// The kernel returns the chosen errno to the process under test, exactly as it would from a failing disk.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Which operations fail on which paths (relative to the mount, with a leading "/"), with which errno name. */
export interface FaultRules {
  getattr?: Record<string, string>;
  readdir?: Record<string, string>;
  open?: Record<string, string>;
  read?: Record<string, string>;
}

/** A mounted faulty mirror of a folder. */
export interface FaultyMount {
  /** Replaces the rules; they apply from the next operation on. */
  setRules(rules: FaultRules): void;
  /** Unmounts and waits for the file system process to end. */
  unmount(): Promise<void>;
}

/** Mounts a mirror of `backing` at `mountpoint` (an empty folder); `rulesFile` is where the rules are kept. */
export async function mountFaulty(backing: string, mountpoint: string, rulesFile: string): Promise<FaultyMount> {
  mkdirSync(backing, { recursive: true });
  mkdirSync(mountpoint, { recursive: true });
  const setRules = (rules: FaultRules) => {
    const tmp = `${rulesFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(rules));
    renameSync(tmp, rulesFile);
  };
  setRules({});
  const proc = Bun.spawn(["/usr/bin/python3", path.join(import.meta.dir, "faulty-fs.py"), backing, mountpoint, rulesFile], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 20_000;
  while (!out.includes("ready")) {
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => "timeout" as const)]);
    if (next === "timeout" || next.done) {
      proc.kill();
      throw new Error(`faulty-fs did not mount at ${mountpoint}: ${await new Response(proc.stderr).text()}`);
    }
    out += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  return {
    setRules,
    async unmount() {
      const r = Bun.spawnSync(["umount", mountpoint]);
      if (r.exitCode !== 0) Bun.spawnSync(["umount", "-l", mountpoint]);
      await proc.exited;
    },
  };
}
