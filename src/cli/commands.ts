import type { Command } from "./command.ts";
import { serveCommand } from "./serve.ts";
import { scanCommand } from "./scan.ts";
import { verifyCommand } from "./verify.ts";
import { rebuildCommand } from "./rebuild.ts";
import { backupCommand, restoreCommand } from "./backup.ts";
import { userCommand } from "./user.ts";
import { applianceCommand } from "./appliance.ts";
import { doctorCommand } from "./doctor.ts";
import { datasetsCommand } from "./client/datasets.ts";
import { searchCommand } from "./client/search.ts";
import { tagsCommand } from "./client/tags.ts";
import { tokenCommand } from "./client/token.ts";
import { exportCommand } from "./client/export.ts";

/** Every subcommand, in the order `mata --help` lists them. */
export const COMMANDS: Command[] = [
  serveCommand,
  scanCommand,
  verifyCommand,
  rebuildCommand,
  backupCommand,
  restoreCommand,
  userCommand,
  applianceCommand,
  doctorCommand,
  datasetsCommand,
  searchCommand,
  tagsCommand,
  tokenCommand,
  exportCommand,
];
