// Privilege separation for `serve` started as root with `user` set (in the manner of OpenSSH's privsep): this root
// process becomes a small helper and starts the server itself as `user`, without root and with one capability that
// only reads (CAP_DAC_READ_SEARCH: every dataset can be previewed and served whatever its owner's modes). The two
// talk over the IPC channel the server inherits; nothing else can reach the helper.
import { chownSync, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";
import type { Account } from "./account.ts";
import { log } from "../log.ts";
import { selfCommand } from "../platform/self.ts";
import { helperHandler } from "./helper.ts";
import { localPrivileged } from "./privileged.ts";
import { SERVER_CHILD_ENV } from "./protocol.ts";

/**
 * Gives the state dir to the server's account at every separated start: the folder and its entries (the database,
 * anything a root command such as `mata restore` left there), and the whole tree (previews) when the folder was not
 * the account's yet (the first separated start of an older install).
 */
export function handStateDir(state: string, account: Account): void {
  const give = (p: string) => {
    const st = lstatSync(p);
    if (!st.isSymbolicLink() && (st.uid !== account.uid || st.gid !== account.gid)) chownSync(p, account.uid, account.gid);
  };
  const whole = lstatSync(state).uid !== account.uid;
  const walk = (dir: string, deep: boolean) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      give(p);
      if (deep && e.isDirectory()) walk(p, true);
    }
  };
  give(state);
  walk(state, whole);
}

/** The capabilities the server keeps: read and search everything (never write), and a low port if configured. */
function serverCaps(config: Config): string {
  return config.port > 0 && config.port < 1024 ? "+dac_read_search,+net_bind_service" : "+dac_read_search";
}

/**
 * Runs the server as `account` with this process as its root helper, until the server exits; SIGTERM and SIGINT are
 * passed on to it. Returns the server's exit code.
 */
export async function runSeparated(config: Config, account: Account, args: string[]): Promise<number> {
  const caps = serverCaps(config);
  const handler = helperHandler({ config, serverUid: account.uid, local: localPrivileged(config) }, (reply) => child.send(reply));
  const child = Bun.spawn(
    [
      "setpriv",
      `--reuid=${account.uid}`,
      `--regid=${account.gid}`,
      "--init-groups",
      `--inh-caps=-all,${caps}`,
      `--ambient-caps=${caps}`,
      `--bounding-set=-all,${caps}`,
      "--no-new-privs",
      "--",
      ...selfCommand(),
      ...args,
    ],
    {
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
      env: { ...process.env, [SERVER_CHILD_ENV]: "1", HOME: account.home, USER: account.name, LOGNAME: account.name },
      ipc: (msg) => handler.handle(msg),
      serialization: "json",
    },
  );
  log.info("privilege separation: server started", { pid: child.pid, user: account.name, uid: account.uid, helper: process.pid });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  try {
    const code = await child.exited;
    return child.signalCode ? 1 : code;
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    handler.close();
  }
}
