import { ConfigError } from "../config.ts";

/** A unix account as NSS knows it. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The account `serve` drops to; a clear error when it does not exist or is root. */
export function serverAccount(name: string): Account {
  const r = Bun.spawnSync(["getent", "passwd", name], { stdout: "pipe", stderr: "ignore" });
  const f = r.exitCode === 0 ? r.stdout.toString().trim().split(":") : [];
  if (f.length < 7)
    throw new ConfigError(`user "${name}" (the account serve runs as) does not exist: create it with useradd --system --user-group --no-create-home ${name}`);
  const uid = Number(f[2]);
  if (uid === 0) throw new ConfigError(`user "${name}" is root: the server must run as an account without privileges`);
  return { name: f[0]!, uid, gid: Number(f[3]), home: f[5] || "/" };
}
