import { existsSync, statSync } from "node:fs";
import { configFlags, type Command } from "./command.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { createContext } from "../services.ts";
import { reconcileAll } from "../sync/reconcile.ts";
import { startAccess } from "../access/access.service.ts";
import { recordChangesForServe } from "../jobs/outbox.ts";

const FLAGS = configFlags("root", "state", "depth");

/** `mata scan`: one full reconcile of the root, for cron jobs, scripts and after bulk changes. */
export const scanCommand: Command = {
  name: "scan",
  summary: "Reconcile the database with the share once (datasets and files added, removed, renamed, copied), then exit",
  usage: `mata scan [--json] [options]\n  --json            print the summary as JSON\n${FLAGS.usage}`,
  options: { ...FLAGS.options, json: { type: "boolean" } },
  async run({ values }) {
    const { json, ...flags } = values;
    const config = loadConfig(flags as Record<string, string>);
    if (!existsSync(config.root) || !statSync(config.root).isDirectory()) throw new ConfigError(`root ${config.root} is not a folder`);
    const ctx = createContext(config);
    // The share's ACLs follow the same reconcile as under `serve`: new files get their grants, drift is repaired.
    const stopAccess = startAccess(ctx);
    // This process runs no jobs: what it changes is left for `serve` to queue (now, or when it next starts).
    ctx.hooks.contentChanged.push(recordChangesForServe(ctx));
    try {
      const s = await reconcileAll(ctx);
      await stopAccess();
      if (json) console.log(JSON.stringify(s));
      else {
        const d = s.datasets;
        const f = s.files;
        console.log(
          `datasets: ${d.present} present, ${d.added} added, ${d.removed} removed, ${d.renamed} renamed, ${d.copied} copied, ${d.restored} restored\n` +
            `files: ${f.present} present, ${f.added} added, ${f.removed} removed, ${f.modified} modified, ${f.renamed} renamed, ${f.copied} copied\n` +
            `${s.errors.length} problems${s.errors.length ? ":\n  " + s.errors.join("\n  ") : ""}\n${s.ms} ms`,
        );
      }
      return 0;
    } finally {
      ctx.db.close();
    }
  },
};
