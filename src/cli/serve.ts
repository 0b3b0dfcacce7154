import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { configFlags, UsageError, type Command } from "./command.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { startServer } from "../server.ts";
import { createContext } from "../services.ts";
import { seedDemoRoot } from "../demo/demo.ts";
import { demoMetadataListener } from "../demo/demo.apply.ts";
import { ensureDemoAccount } from "../demo/demo.account.ts";
import { log } from "../log.ts";
import { serverRunning } from "../backup/backup.ts";
import { secureStateDir } from "../db/state-files.ts";
import { helperClient, parentChannel } from "../privilege/client.ts";
import { SERVER_CHILD_ENV } from "../privilege/protocol.ts";
import { serverAccount } from "../privilege/account.ts";
import { handStateDir, runSeparated } from "../privilege/split.ts";

const FLAGS = configFlags("root", "state", "listen", "depth", "auth");

// A graceful stop ends well within this (its own parts are bounded: 5 s for requests under way); past it, exit anyway.
const STOP_LIMIT_MS = 9_500;
const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/** Writes the pid file that restore and a second `serve` check; refuses a state dir another server holds. */
function claimStateDir(state: string): () => void {
  if (serverRunning(state)) throw new ConfigError(`another mata serve is running on state dir ${state} (see ${path.join(state, "mata.pid")})`);
  const pidFile = path.join(state, "mata.pid");
  writeFileSync(pidFile, `${process.pid}\n`);
  return () => rmSync(pidFile, { force: true });
}

/** `mata serve`: the watcher, the jobs and the web, until SIGINT or SIGTERM (a graceful stop; a second signal exits at once). */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the watcher, background jobs and the web pages (default: demo data under ./mata-data)",
  usage: `mata serve [options]\n${FLAGS.usage}\n  --tls-cert FILE   serve HTTPS with this PEM certificate (with --tls-key; config [tls] cert)\n  --tls-key FILE    the PEM private key of --tls-cert (config [tls] key)`,
  options: { ...FLAGS.options, "tls-cert": { type: "string" }, "tls-key": { type: "string" } },
  async run({ values }) {
    const config = loadConfig(values as Record<string, string>);
    const tlsCert = values["tls-cert"] as string | undefined;
    const tlsKey = values["tls-key"] as string | undefined;
    if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
    if (tlsCert && tlsKey) config.tls = { cert: path.resolve(tlsCert), key: path.resolve(tlsKey) };
    for (const f of config.tls ? [config.tls.cert, config.tls.key] : []) if (!existsSync(f)) throw new ConfigError(`TLS file ${f} does not exist`);
    // The unprivileged half of a separated server: its helper (the parent) seeded the demo and holds the pid file.
    const channel = process.env[SERVER_CHILD_ENV] === "1" ? parentChannel() : undefined;
    if (config.demo && !channel) {
      mkdirSync(config.root, { recursive: true });
      await seedDemoRoot(config.root);
    }
    if (!existsSync(config.root) || !statSync(config.root).isDirectory()) throw new ConfigError(`root ${config.root} is not a folder`);
    if (!channel && config.user && process.getuid?.() === 0) {
      const account = serverAccount(config.user);
      secureStateDir(config.state);
      handStateDir(config.state, account);
      const releasePid = claimStateDir(config.state);
      try {
        return await runSeparated(config, account, process.argv.slice(2));
      } finally {
        releasePid();
      }
    }
    const ctx = createContext(config, channel ? { privileged: helperClient(channel, process.getuid?.() ?? 0) } : {});
    let demoLogin = "";
    if (config.demo) {
      ctx.hooks.datasetSeen.push(demoMetadataListener(ctx));
      const account = await ensureDemoAccount(ctx);
      demoLogin = account.password ? ` (demo: sign in as ${account.name} / ${account.password})` : ` (demo: sign in as ${account.name})`;
    }
    const releasePid = channel ? () => {} : claimStateDir(config.state);
    const { url, stop } = await startServer(ctx);
    console.log(`mata: serving ${config.root} at ${url}${demoLogin}`);
    let stopping = false;
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        if (stopping) {
          // A second signal: whoever sent it will not wait; SQLite's log keeps the database whole anyway.
          log.warn("stopping at once", { signal: sig });
          releasePid();
          process.exit(128 + (SIGNAL_NUMBERS[sig] ?? 15));
        }
        stopping = true;
        log.info("stopping", { signal: sig });
        resolve();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      // Without its helper the server cannot check passwords or write ACLs: it stops with it.
      channel?.onClose(() => onSignal("helper gone"));
    });
    // A stop that hangs (a file system that stopped answering) must not keep a service manager waiting.
    const watchdog = setTimeout(() => {
      log.error("the stop took over its time; exiting now", { ms: STOP_LIMIT_MS });
      releasePid();
      process.exit(1);
    }, STOP_LIMIT_MS);
    await stop();
    clearTimeout(watchdog);
    releasePid();
    return 0;
  },
};
