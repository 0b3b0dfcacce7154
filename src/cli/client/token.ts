import { hostname } from "node:os";
import { UsageError, type Command } from "../command.ts";
import { readLineFromStdin } from "../stdin.ts";
import { mataClient, type Credentials } from "./http.ts";
import { CLIENT_OPTIONS, CLIENT_USAGE, clientSettings } from "./settings.ts";

type Env = Record<string, string | undefined>;

/**
 * Who `token create` signs in as: `--user`/MATA_USER with MATA_PASSWORD or the first line of stdin
 * (HTTP Basic), else the configured token (a token may make another), else a usage error.
 */
export async function tokenCreateCredentials(
  values: Record<string, string | boolean | undefined>,
  token: string | undefined,
  env: Env = process.env,
): Promise<Credentials> {
  const user = (typeof values.user === "string" && values.user) || env.MATA_USER;
  if (user) {
    const password = env.MATA_PASSWORD || (await readLineFromStdin(`Password for ${user}: `));
    if (!password) throw new UsageError(`no password for ${user}: give it on stdin or in MATA_PASSWORD`);
    return { user, password };
  }
  if (token) return { token };
  throw new UsageError("token create needs --user NAME (or MATA_USER); the password is read from stdin or MATA_PASSWORD");
}

/** `mata token create`: an API token for scripts, made by signing in with the account's password. */
export const tokenCreateCommand: Command = {
  name: "token create",
  summary: "Create an API token for scripts (sign in with --user NAME, password on stdin); prints the secret",
  usage: `mata token create --user NAME [--label L] [--json] [--url URL]   (password on stdin or MATA_PASSWORD)
  --user NAME           the account to make the token for (env MATA_USER); without one, the current token signs in
  --label L             what the token is for, shown on /account (default: "mata CLI on HOST")
  --json                print { id, label, secret } instead of the secret alone
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, user: { type: "string" }, label: { type: "string" }, json: { type: "boolean" } },
  async run({ values, positionals }) {
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
    const settings = clientSettings(values);
    const client = mataClient(settings.url, await tokenCreateCredentials(values, settings.token));
    const label = typeof values.label === "string" ? values.label : `mata CLI on ${hostname()}`;
    const t = await client.request<{ id: number; label: string; secret: string }>("POST", "/api/v1/tokens", { label });
    if (values.json) console.log(JSON.stringify(t));
    else {
      console.log(t.secret);
      console.error(`mata: token ${t.id} (${JSON.stringify(t.label)}) created; the secret is shown only now: export MATA_TOKEN=...`);
    }
    return 0;
  },
};

/** `mata token`: API tokens for scripts. */
export const tokenCommand: Command = {
  name: "token",
  summary: "API tokens for scripts: token create",
  usage: `mata token create --user NAME [--label L] [--json]   (mata token create --help)
  create                make an API token and print its secret`,
  subcommands: [tokenCreateCommand],
  async run() {
    throw new UsageError("token needs a verb: create");
  },
};
