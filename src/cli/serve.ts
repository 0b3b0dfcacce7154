import { existsSync, mkdirSync, statSync } from "node:fs";
import { CONFIG_OPTIONS, CONFIG_USAGE, type Command } from "./command.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { openContext, startServer } from "../server.ts";
import { seedDemoRoot } from "../demo/demo.ts";
import { log } from "../log.ts";

/** `mata serve`: the watcher, the jobs and the web, until SIGINT or SIGTERM. */
export const serveCommand: Command = {
  name: "serve",
  summary: "Run the watcher, background jobs and the web pages (default: demo data under ./mata-data)",
  usage: `mata serve [options]\n${CONFIG_USAGE}`,
  options: CONFIG_OPTIONS,
  async run({ values }) {
    const config = loadConfig(values as Record<string, string>);
    if (config.demo) {
      mkdirSync(config.root, { recursive: true });
      await seedDemoRoot(config.root);
    }
    if (!existsSync(config.root) || !statSync(config.root).isDirectory()) throw new ConfigError(`root ${config.root} is not a folder`);
    const ctx = openContext(config);
    const { url, stop } = await startServer(ctx);
    console.log(`mata: serving ${config.root} at ${url}`);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        log.info("stopping", { signal: sig });
        resolve();
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    });
    await stop();
    return 0;
  },
};
