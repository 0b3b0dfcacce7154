// Where the client verbs find the server and the token: flags, then the environment, then a small TOML file.
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { ParseArgsConfig } from "node:util";
import { ClientError, mataClient, type MataClient } from "./http.ts";

/** The address of `mata serve` when nothing else names one (its own default listen address). */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** The connection flags every client verb takes. */
export const CLIENT_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  "client-config": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Help lines for CLIENT_OPTIONS, appended to each client verb's usage. */
export const CLIENT_USAGE = `  --url URL             the Mata server, default ${DEFAULT_URL} (env MATA_URL)
  --token TOKEN         an API token, mata_... (env MATA_TOKEN)
  --client-config FILE  a TOML file with url and token, default $XDG_CONFIG_HOME/mata/client.toml`;

/** Where a client verb connects and with which token (none: the server will ask for one). */
export interface ClientSettings {
  url: string;
  token?: string;
}

type Env = Record<string, string | undefined>;

/** Settles url and token from flags, then MATA_URL/MATA_TOKEN, then the client config file, then the default URL. */
export function clientSettings(values: Record<string, string | boolean | undefined>, env: Env = process.env): ClientSettings {
  const flag = (name: string) => (typeof values[name] === "string" && values[name] !== "" ? (values[name] as string) : undefined);
  const fromEnv = (name: string) => (env[name] ? env[name] : undefined);
  const explicit = flag("client-config");
  const file = readClientConfig(explicit ?? defaultConfigPath(env), explicit !== undefined);
  return {
    url: flag("url") ?? fromEnv("MATA_URL") ?? file.url ?? DEFAULT_URL,
    token: flag("token") ?? fromEnv("MATA_TOKEN") ?? file.token,
  };
}

/** `$XDG_CONFIG_HOME/mata/client.toml`, else `~/.config/mata/client.toml`. */
export function defaultConfigPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), ".config");
  return path.join(base, "mata", "client.toml");
}

const KEYS = ["url", "token"];

/** Reads url and token from a client config file; a missing default file is no error, a missing named one is. */
export function readClientConfig(file: string, required: boolean): { url?: string; token?: string } {
  if (!existsSync(file)) {
    if (required) throw new ClientError(`client config ${file} does not exist`);
    return {};
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = Bun.TOML.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ClientError(`client config ${file} is not valid TOML: ${(e as Error).message}`);
  }
  const out: { url?: string; token?: string } = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!KEYS.includes(key)) throw new ClientError(`client config ${file}: unknown key ${JSON.stringify(key)} (known: ${KEYS.join(", ")})`);
    if (typeof value !== "string") throw new ClientError(`client config ${file}: ${key} must be a string`);
    out[key as "url" | "token"] = value;
  }
  // A token is a password: say so when others on the machine can read it.
  if (out.token && (statSync(file).mode & 0o077) !== 0) process.stderr.write(`mata: warning: ${file} holds a token and others may read it; chmod 600 it\n`);
  return out;
}

/** A client for the server and token the flags, environment and config file name. */
export function connect(values: Record<string, string | boolean | undefined>, env: Env = process.env): MataClient {
  const s = clientSettings(values, env);
  return mataClient(s.url, s.token ? { token: s.token } : null);
}
