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

/** The flags that choose where and how Mata runs; each command takes only those it uses. */
export type ConfigFlag = "root" | "state" | "listen" | "depth" | "auth" | "config";

const CONFIG_HELP: Record<ConfigFlag, string> = {
  root: "  --root DIR        the folder the share exports (env MATA_ROOT)",
  state: "  --state DIR       where mata.db and previews live (env MATA_STATE)",
  listen: "  --listen H:P      address to serve on, default 127.0.0.1:8080 (env MATA_LISTEN)",
  depth: "  --depth N         folder depth of datasets below the root, default 1 (env MATA_DEPTH)",
  auth: "  --auth local|pam  account backend, default local (env MATA_AUTH)",
  config: "  --config FILE     a TOML (or .json) config file (env MATA_CONFIG)",
};

/** The options and usage lines of the config flags a command uses (`--config` always: the file may set the rest). */
export function configFlags(...names: Exclude<ConfigFlag, "config">[]): { options: Record<ConfigFlag | string, { type: "string" }>; usage: string } {
  const all: ConfigFlag[] = [...names, "config"];
  return { options: Object.fromEntries(all.map((n) => [n, { type: "string" as const }])), usage: all.map((n) => CONFIG_HELP[n]).join("\n") };
}
