// A throwaway MIT Kerberos KDC on loopback for tests: all state in a temp dir, stopped by PID.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** A running test KDC and the calls tests need to use it. */
export interface TestKdc {
  realm: string;
  port: number;
  dir: string;
  /** KRB5_CONFIG and KRB5_KDC_PROFILE: pass to every Kerberos tool and server (Bun's process.env does not reach getenv). */
  env: Record<string, string>;
  /** Adds a user principal with a password. */
  addUser(name: string, password: string): void;
  /** Adds a service principal (e.g. "HTTP/localhost", "cifs/localhost") with a random key and exports it to `keytab`. */
  addService(spn: string, keytab: string, opts?: { noAuthData?: boolean }): void;
  /** Gets a ticket for `name` into its own credential cache; returns env (KRB5CCNAME + config) for clients such as curl or smbclient. */
  kinit(name: string, password: string): Record<string, string>;
  /** Stops the KDC (SIGTERM to its PID) and waits for it to exit. */
  stop(): Promise<void>;
}

function run(argv: string[], env: Record<string, string>, stdin = ""): string {
  const r = Bun.spawnSync(argv, { env: { ...process.env, ...env }, stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      sock.end();
      return;
    } catch {
      await Bun.sleep(20);
    }
  }
  throw new Error(`the test KDC did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/**
 * Creates a realm database in `dir` and starts `krb5kdc -n` on a free loopback port (TCP; clients are
 * told to prefer TCP). `localhost` maps to the realm and host names are not canonicalised, so the
 * HTTP service is HTTP/localhost and clients must use http://localhost:PORT.
 */
export async function startKdc(dir: string, realm = "MATA.TEST"): Promise<TestKdc> {
  const k = path.join(dir, "kdc");
  mkdirSync(k, { recursive: true });
  const port = await freePort();
  const env = { KRB5_CONFIG: path.join(k, "krb5.conf"), KRB5_KDC_PROFILE: path.join(k, "kdc.conf") };
  writeFileSync(
    env.KRB5_CONFIG,
    `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
[realms]
  ${realm} = {
    kdc = 127.0.0.1:${port}
  }
[domain_realm]
  localhost = ${realm}
`,
  );
  writeFileSync(
    env.KRB5_KDC_PROFILE,
    `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${realm} = {
    database_name = ${k}/principal
    key_stash_file = ${k}/stash
    acl_file = ${k}/kadm5.acl
    max_life = 10h 0m 0s
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:${k}/kdc.log
  default = FILE:${k}/kdc.log
`,
  );
  writeFileSync(path.join(k, "kadm5.acl"), "");
  run(["kdb5_util", "create", "-s", "-r", realm, "-P", `master-${crypto.randomUUID()}`], env);
  const proc = Bun.spawn(["krb5kdc", "-n", "-P", path.join(k, "kdc.pid")], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  try {
    await waitForPort(port, 5000);
  } catch (e) {
    proc.kill();
    throw e;
  }
  const kadmin = (q: string) => run(["kadmin.local", "-q", q], env);
  return {
    realm,
    port,
    dir: k,
    env,
    addUser(name, password) {
      kadmin(`addprinc -pw ${password} ${name}`);
    },
    addService(spn, keytab, opts = {}) {
      kadmin(`addprinc -randkey ${spn}`);
      if (opts.noAuthData) kadmin(`modprinc +no_auth_data_required ${spn}`);
      kadmin(`ktadd -k ${keytab} ${spn}`);
    },
    kinit(name, password) {
      const ccache = `FILE:${path.join(k, `cc_${name.replace(/[^a-z0-9_]/gi, "_")}`)}`;
      const clientEnv = { ...env, KRB5CCNAME: ccache };
      run(["kinit", `${name}@${realm}`], clientEnv, `${password}\n`);
      return clientEnv;
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
