import type { Command } from "./command.ts";
import { serveCommand } from "./serve.ts";
import { backupCommand, restoreCommand } from "./backup.ts";
import { userCommand } from "./user.ts";

/** Every subcommand, in the order `mata --help` lists them. */
export const COMMANDS: Command[] = [
  serveCommand,
  backupCommand,
  restoreCommand,
  userCommand,
];
