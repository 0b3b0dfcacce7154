import { configFlags, UsageError, type Command } from "./command.ts";
import { loadConfig } from "../config.ts";
import { createContext } from "../services.ts";
import { checkDataset, fixityView } from "../fixity/fixity.service.ts";
import { fixityRepo } from "../fixity/fixity.repo.ts";

const FLAGS = configFlags("root", "state");

/** `mata verify`: reads every file again and compares it with its checksum now; exit 1 when any content changed. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "Check files against their recorded SHA-256 now (all datasets or those named); exit 1 when content changed under an unchanged size and time",
  usage:
    `mata verify [DATASET...] [--json] [options]\n` +
    `  DATASET           a dataset's id or folder path (relative to the root); default: every dataset\n` +
    `  --json            print the report as JSON\n` +
    `  Files without a checksum yet get one. Safe while mata serve runs.\n${FLAGS.usage}`,
  options: { ...FLAGS.options, json: { type: "boolean" } },
  async run({ values, positionals }) {
    const { json, ...flags } = values;
    const config = loadConfig(flags as Record<string, string>);
    const ctx = createContext(config);
    try {
      const repo = fixityRepo(ctx.db);
      const ids = positionals.length
        ? positionals.map((p) => {
            const id = /^\d+$/.test(p) ? (repo.dataset(Number(p))?.state === "present" ? Number(p) : undefined) : repo.presentAt(p.replace(/^\/+|\/+$/g, ""));
            if (id === undefined) throw new UsageError(`no dataset ${JSON.stringify(p)} on the share (give its id or its folder path relative to the root)`);
            return id;
          })
        : repo.presentDatasets().map((d) => d.id);
      const signal = new AbortController().signal;
      const report = [];
      for (const id of ids) {
        const run = await checkDataset(ctx, id, { verify: true, signal });
        const view = fixityView(ctx, id)!;
        report.push({
          id,
          path: repo.dataset(id)!.path,
          hashed: run.hashed,
          matched: run.matched,
          skipped: run.skipped,
          mismatches: view.mismatches,
          newMismatches: run.mismatches.length,
        });
      }
      const mismatches = report.reduce((n, r) => n + r.mismatches.length, 0);
      if (json) console.log(JSON.stringify({ datasets: report, mismatches }));
      else {
        for (const r of report) {
          console.log(
            `${r.path}: ${r.matched} matched, ${r.hashed} checksummed for the first time, ${r.skipped.length} skipped, ${r.mismatches.length} changed`,
          );
          for (const m of r.mismatches) console.log(`  CHANGED ${r.path}/${m.path}: recorded ${m.expected}, now ${m.actual}`);
          for (const s of r.skipped) console.log(`  skipped ${r.path}/${s.path}: ${s.reason}`);
        }
        console.log(
          mismatches ? `${mismatches} file${mismatches === 1 ? "" : "s"} changed while size and time did not: restore from a backup` : "no content changed",
        );
      }
      return mismatches > 0 ? 1 : 0;
    } finally {
      ctx.db.close();
    }
  },
};
