// Runs inside the compiled executable (and in each of its workers): extracts sharp's embedded addon and
// libvips into a cache folder the dynamic loader can use, then loads the addon.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** What the build knows about the embedded files: the cache key and where each goes below the key folder. */
export interface EmbeddedAddonSpec {
  key: string;
  addonRel: string;
  libvipsRel: string;
}

/** Where sharp's native files were extracted in this process; `mata doctor` reports it. */
export interface EmbeddedAddonInfo {
  dir: string;
  extracted: boolean;
  ms: number;
}

const INFO = Symbol.for("mata.sharp.embedded");

/** The extraction this process did, or undefined when sharp was loaded from node_modules (running from source). */
export function embeddedAddonInfo(): EmbeddedAddonInfo | undefined {
  return (globalThis as Record<symbol, EmbeddedAddonInfo | undefined>)[INFO];
}

/**
 * Cache folder candidates, best first: an explicit MATA_CACHE_DIR, systemd's CacheDirectory=, the state
 * dir from MATA_STATE, XDG, ~/.cache, then a per-user folder in /var/tmp. Flags are not parsed yet when
 * sharp loads, so only the environment can choose.
 */
export function cacheDirCandidates(env: Record<string, string | undefined> = process.env): string[] {
  // An explicit choice is the only candidate: falling back elsewhere would hide the admin's mistake.
  if (env.MATA_CACHE_DIR) return [path.resolve(env.MATA_CACHE_DIR)];
  const out: string[] = [];
  const systemd = env.CACHE_DIRECTORY?.split(":")[0];
  if (systemd) out.push(systemd);
  if (env.MATA_STATE) out.push(path.join(path.resolve(env.MATA_STATE), ".cache"));
  if (env.XDG_CACHE_HOME) out.push(path.join(env.XDG_CACHE_HOME, "mata"));
  const home = env.HOME || safeHomedir();
  if (home) out.push(path.join(home, ".cache", "mata"));
  out.push(path.join("/var/tmp", `mata-cache-${process.getuid?.() ?? "user"}`));
  return out;
}

function safeHomedir(): string {
  try {
    return os.homedir();
  } catch {
    return "";
  }
}

/** True when the folder (or its nearest existing ancestor) lives on a mount with `noexec`, where dlopen fails. */
export function isNoexecMount(dir: string, mountinfo = readMountinfo()): boolean {
  if (!mountinfo) return false;
  let probe = dir;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const real = realpathSync(probe);
  let best = { len: -1, noexec: false };
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 6) continue;
    const mnt = f[4]!.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    const inside = mnt === "/" || real === mnt || real.startsWith(mnt + "/");
    // Later lines are mounted later, so an equal-length match later in the file shadows an earlier one.
    if (inside && mnt.length >= best.len) best = { len: mnt.length, noexec: f[5]!.split(",").includes("noexec") };
  }
  return best.noexec;
}

function readMountinfo(): string | undefined {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined;
  }
}

function usable(dir: string, mountinfo: string | undefined): string | undefined {
  try {
    if (isNoexecMount(dir, mountinfo)) return `${dir} is on a noexec mount`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (process.getuid && st.uid !== process.getuid() && dir.startsWith("/var/tmp/")) return `${dir} belongs to another user`;
    return undefined;
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
}

/** Picks the first usable cache folder, or throws naming every one tried and why it was refused. */
export function chooseCacheDir(env: Record<string, string | undefined> = process.env, mountinfo = readMountinfo()): string {
  const problems: string[] = [];
  for (const dir of cacheDirCandidates(env)) {
    const problem = usable(dir, mountinfo);
    if (!problem) return dir;
    problems.push(problem);
  }
  throw new Error(
    `mata: no folder to unpack the image library into (${problems.join("; ")}); set MATA_CACHE_DIR to a writable folder on a mount without noexec`,
  );
}

/** Copies an embedded file out once; temp name + rename, so concurrent first starts never see half a file. */
function extract(embedded: string, dest: string): boolean {
  const size = Bun.file(embedded).size;
  if (existsSync(dest) && statSync(dest).size === size) return false;
  mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const bytes = readFileSync(embedded);
    const fd = openSync(tmp, "w", 0o755);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      // Durable before it gets its final name: after a power cut the name never points at missing data.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o755);
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
  return true;
}

/** Extracts libvips and the addon (libvips first: the addon's RPATH needs it) and loads the addon. */
export function loadEmbeddedAddon(spec: EmbeddedAddonSpec, addonEmbedded: string, libvipsEmbedded: string): unknown {
  const t0 = performance.now();
  const dir = path.join(chooseCacheDir(), spec.key);
  const a = extract(libvipsEmbedded, path.join(dir, spec.libvipsRel));
  const addonPath = path.join(dir, spec.addonRel);
  const b = extract(addonEmbedded, addonPath);
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod as { exports: object }, addonPath);
  } catch (e) {
    throw new Error(`mata: could not load the image library from ${dir}: ${(e as Error).message} (MATA_CACHE_DIR chooses another folder)`);
  }
  (globalThis as Record<symbol, EmbeddedAddonInfo>)[INFO] = { dir, extracted: a || b, ms: Math.round(performance.now() - t0) };
  return mod.exports;
}
