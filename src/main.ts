#!/usr/bin/env bun
import { COMMANDS } from "./cli/commands.ts";
import { parseCommandArgs, pickCommand, UsageError } from "./cli/command.ts";
import { ClientError } from "./cli/client/http.ts";
import { ConfigError } from "./config.ts";
import { AppError } from "./errors.ts";
import { VERSION } from "./version.ts";
import { runTilerChild, TILER_CHILD_ENV } from "./preview/tiler.child.ts";
import { HASH_CHILD_ENV, runHashChild } from "./fixity/hash.child.ts";
import { EXPORT_CHILD_ENV, runExportChild } from "./export/export.child.ts";
import { failureLine } from "./cli/failure.ts";
import { log, setLogFormat } from "./log.ts";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `mata ${VERSION}: research-image curation over a plain SMB share`,
    "",
    "Usage: mata [--debug] [--log json|text] COMMAND [options]   (mata COMMAND --help for its options)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options of every command:",
    "  --debug           on an unexpected error, also write its stack trace to the log",
    "  --log json|text   log lines as JSON or as text (default: text on a terminal, JSON otherwise; env MATA_LOG_FORMAT)",
  ].join("\n");
}

/** The options every command takes, taken out of the arguments wherever they appear. */
function globalOptions(argv: string[]): { argv: string[]; debug: boolean; log?: string } {
  const rest: string[] = [];
  let debug = false;
  let logFormat: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === "--debug") debug = true;
    else if (a === "--log") logFormat = argv[++i] ?? "";
    else if (a.startsWith("--log=")) logFormat = a.slice("--log=".length);
    else rest.push(a);
  }
  return { argv: rest, debug, log: logFormat };
}

/** Says what went wrong in one line; the stack goes to the log only when asked for with --debug. */
function unexpected(command: string, e: unknown, debug: boolean): number {
  console.error(`mata ${command}: ${failureLine(e)}${debug ? "" : " (run again with --debug for details)"}`);
  if (debug) log.error("unexpected error", { command, error: String(e), stack: (e as Error)?.stack });
  return 1;
}

/** Runs the CLI; returns the exit code. */
export async function main(fullArgv: string[]): Promise<number> {
  const global = globalOptions(fullArgv);
  if (global.log !== undefined) {
    if (global.log !== "json" && global.log !== "text") {
      console.error(`mata: --log must be json or text, got ${JSON.stringify(global.log)}`);
      return 2;
    }
    setLogFormat(global.log);
  }
  debugging = global.debug;
  const [name, ...rest] = global.argv;
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
    return unexpected(cmd.name, e, global.debug);
  }
}

// Whether --debug was given, for errors that escape a command (a server's background work).
let debugging = false;

if (import.meta.main) {
  // A preview build re-runs this executable as a child process, so a cancel can SIGKILL it mid-libvips.
  if (process.env[TILER_CHILD_ENV] === "1") process.exit(await runTilerChild());
  if (process.env[HASH_CHILD_ENV] === "1") process.exit(await runHashChild());
  if (process.env[EXPORT_CHILD_ENV] === "1") process.exit(await runExportChild());
  // An error no command caught (background work of `serve`): one line, the stack only with --debug, never the bundle's source.
  const last = (e: unknown) => process.exit(unexpected(process.argv[2] ?? "", e, debugging));
  process.on("uncaughtException", last);
  process.on("unhandledRejection", last);
  process.exit(await main(process.argv.slice(2)));
}
