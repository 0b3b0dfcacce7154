import { mkdtempSync, rmSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig, type Config } from "../../src/config.ts";
import type { AppContext } from "../../src/context.ts";
import { createContext } from "../../src/services.ts";

/** A temp folder removed by the returned cleanup; 0755 so other local users (smbd, PAM users) can enter it. */
export function tempDir(prefix = "mata-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real root folder, state dir and SQLite file in a temp dir, with config overrides; built like `mata serve` builds its own. */
export function testContext(overrides: Partial<Config> = {}): AppContext & { dir: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir();
  const root = path.join(dir, "root");
  const state = path.join(dir, "state");
  mkdirSync(root, { recursive: true });
  mkdirSync(state, { recursive: true });
  const config: Config = { ...loadConfig({ root, state, listen: "127.0.0.1:0" }, {}), acls: false, ...overrides };
  const ctx = createContext(config);
  return Object.assign(ctx, {
    dir,
    cleanup: () => {
      ctx.db.close();
      cleanup();
    },
  });
}
