#!/usr/bin/env bun
import { COMMANDS } from "./cli/commands.ts";
import { parseCommandArgs, pickCommand, UsageError } from "./cli/command.ts";
import { ClientError } from "./cli/client/http.ts";
import { ConfigError } from "./config.ts";
import { AppError } from "./errors.ts";
import { VERSION } from "./version.ts";
import { runTilerChild, TILER_CHILD_ENV } from "./preview/tiler.child.ts";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `mata ${VERSION}: research-image curation over a plain SMB share`,
    "",
    "Usage: mata COMMAND [options]   (mata COMMAND --help for its options)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(VERSION);
    return 0;
  }
  const top = COMMANDS.find((c) => c.name === name);
  if (!top) {
    console.error(`mata: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  let cmd = top;
  try {
    const picked = pickCommand(top, rest);
    cmd = picked.cmd;
    const args = parseCommandArgs(cmd, picked.argv);
    if (args.values.help) {
      console.log(`${cmd.summary}\n\nUsage: ${cmd.usage}`);
      return 0;
    }
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`mata ${cmd.name}: ${e.message}\n\nUsage: ${cmd.usage}`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof AppError || e instanceof ClientError) {
      console.error(`mata ${cmd.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  // A preview build re-runs this executable as a child process, so a cancel can SIGKILL it mid-libvips.
  if (process.env[TILER_CHILD_ENV] === "1") process.exit(await runTilerChild());
  process.exit(await main(process.argv.slice(2)));
}
