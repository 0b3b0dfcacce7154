import { parseArgs, type ParseArgsConfig } from "node:util";

/** One `mata` subcommand; each lives in its own module and is listed in src/cli/commands.ts. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options?: ParseArgsConfig["options"];
  /** Verbs under this command (`mata tags get`), each with its own options and `--help`; then `run` is not called. */
  subcommands?: Command[];
  /** Returns the process exit code. */
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }): Promise<number>;
}

/** Thrown for wrong arguments; printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Finds the command a command line names, descending into verbs (`tags` then `get`), so each verb parses
 * and documents only its own options; returns it with the arguments left for it.
 */
export function pickCommand(cmd: Command, argv: string[]): { cmd: Command; argv: string[] } {
  if (!cmd.subcommands) return { cmd, argv };
  const [verb, ...rest] = argv;
  const sub = cmd.subcommands.find((s) => s.name === `${cmd.name} ${verb}`);
  if (sub) return pickCommand(sub, rest);
  if (verb === undefined || verb === "--help" || verb === "-h") return { cmd, argv };
  throw new UsageError(`unknown verb ${JSON.stringify(verb)}: use ${cmd.subcommands.map((s) => s.name.slice(cmd.name.length + 1)).join(" or ")}`);
}

/** Parses a subcommand's argv strictly, so a misspelt flag is an error rather than ignored. */
export function parseCommandArgs(cmd: Command, argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, ...cmd.options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The flags that choose root, state, listen, depth, auth and config, shared by serve, scan and others. */
export const CONFIG_OPTIONS = {
  root: { type: "string" },
  state: { type: "string" },
  listen: { type: "string" },
  depth: { type: "string" },
  auth: { type: "string" },
  config: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

export const CONFIG_USAGE = `  --root DIR        the folder the share exports (env MATA_ROOT)
  --state DIR       where mata.db and previews live (env MATA_STATE)
  --listen H:P      address to serve on, default 127.0.0.1:8080 (env MATA_LISTEN)
  --depth N         folder depth of datasets below the root, default 1 (env MATA_DEPTH)
  --auth local|pam  account backend, default local (env MATA_AUTH)
  --config FILE     a TOML (or .json) config file (env MATA_CONFIG)`;
