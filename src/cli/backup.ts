import path from "node:path";
import { configFlags, UsageError, type Command } from "./command.ts";
import { loadConfig } from "../config.ts";
import { backupDatabase, restoreDatabase } from "../backup/backup.ts";

const FLAGS = configFlags("state");

/** `mata backup FILE`: a consistent copy of the database, safe while serving. */
export const backupCommand: Command = {
  name: "backup",
  summary: "Write a consistent copy of the metadata database to FILE (safe while serving)",
  usage: `mata backup FILE [options]\n${FLAGS.usage}`,
  options: FLAGS.options,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError("expected exactly one FILE");
    const config = loadConfig(values as Record<string, string>);
    const { bytes } = backupDatabase(path.join(config.state, "mata.db"), path.resolve(positionals[0]!));
    console.log(`mata: backed up ${bytes} bytes to ${path.resolve(positionals[0]!)}`);
    return 0;
  },
};

/** `mata restore FILE`: replaces the database with a checked backup (server stopped). */
export const restoreCommand: Command = {
  name: "restore",
  summary: "Replace the metadata database with a backup FILE (stop mata serve first)",
  usage: `mata restore FILE [options]\n${FLAGS.usage}`,
  options: FLAGS.options,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError("expected exactly one FILE");
    const config = loadConfig(values as Record<string, string>);
    const { migrations } = restoreDatabase(path.join(config.state, "mata.db"), path.resolve(positionals[0]!));
    console.log(
      `mata: restored ${path.resolve(positionals[0]!)}${migrations.length ? ` (upgraded: ${migrations.join(", ")})` : ""}; the previous database is kept as mata.db.before-restore`,
    );
    return 0;
  },
};
