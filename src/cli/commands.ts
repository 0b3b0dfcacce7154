import type { Command } from "./command.ts";
import { serveCommand } from "./serve.ts";

/** Every subcommand, in the order `mata --help` lists them. */
export const COMMANDS: Command[] = [serveCommand];
