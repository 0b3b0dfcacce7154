// Fills the appliance templates (Samba include, PAM service, systemd unit, config, Kerberos) for one
// host. The templates are embedded in the executable, so `mata appliance render` needs no source tree.
import { hostname as osHostname, totalmem } from "node:os";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";
import smbTemplate from "../../appliance/smb-mata.conf.tmpl" with { type: "text" };
import pamTemplate from "../../appliance/pam.d/mata.tmpl" with { type: "text" };
import unitTemplate from "../../appliance/systemd/mata.service.tmpl" with { type: "text" };
import configTemplate from "../../appliance/mata.toml.tmpl" with { type: "text" };
import krb5Template from "../../appliance/krb5-mata.conf.tmpl" with { type: "text" };

/** A bad render option, named; the CLI prints it with exit code 1. */
export class ApplianceError extends Error {}

/** What the host-specific parts of the templates come from, besides the config. */
export interface ApplianceOptions {
  out: string;
  hostname?: string;
  realm?: string;
  kdc?: string;
  shareName?: string;
  binary?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** The account the server runs as (config `user`; default "mata", which the installer creates). */
  serviceUser?: string;
  /** The unit's MemoryMax (default: three quarters of this machine's memory). */
  memoryMax?: string;
}

type Vars = Record<string, string | boolean>;

/**
 * Mustache-like filling: `{{name}}` and `{{#flag}}...{{/flag}}` blocks kept only when the flag is set;
 * a placeholder with no value is an error, never an empty string in a config file.
 */
export function fillTemplate(template: string, vars: Vars): string {
  const blocks = template.replace(/\{\{#(\w+)\}\}\n?([\s\S]*?)\{\{\/\1\}\}\n?/g, (_, flag: string, body: string) => (vars[flag] ? body : ""));
  return blocks.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (typeof v !== "string") throw new ApplianceError(`template placeholder {{${name}}} has no value`);
    return v;
  });
}

function checked(value: string, what: string, re: RegExp): string {
  if (!re.test(value)) throw new ApplianceError(`${what} ${JSON.stringify(value)} is not valid (expected ${re.source})`);
  return value;
}

const PATH_RE = /^\/[^\n\r\0"\\;]*$/;
const toml = (s: string) => JSON.stringify(s);

/** The files `render` writes, relative to the output folder, with their content. */
export function renderAppliance(config: Config, opts: ApplianceOptions): Record<string, string> {
  const out = checked(path.resolve(opts.out), "--out", PATH_RE);
  const host = checked(opts.hostname ?? osHostname(), "hostname", /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/);
  const realm = opts.realm === undefined ? undefined : checked(opts.realm, "--realm", /^[A-Z0-9][A-Z0-9.-]{0,252}$/);
  const compiled = Bun.main.startsWith("/$bunfs/");
  const binary = opts.binary ?? (compiled ? process.execPath : `${process.execPath} ${path.resolve(Bun.main)}`);
  const tls = opts.tlsCert && opts.tlsKey ? { cert: opts.tlsCert, key: opts.tlsKey } : config.tls;
  const vars: Vars = {
    hostname: host,
    installDir: out,
    root: checked(config.root, "root", PATH_RE),
    rootToml: toml(config.root),
    stateToml: toml(checked(config.state, "state", PATH_RE)),
    listenToml: toml(`${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`),
    depth: String(config.depth),
    shareName: checked(opts.shareName ?? "data", "--share", /^[A-Za-z0-9_-]{1,32}$/),
    binary: checked(binary, "binary", /^\/[^\n\r\0"\\;]*$/),
    configFile: path.join(out, "mata.toml"),
    tls: Boolean(tls),
    tlsCertToml: tls ? toml(checked(path.resolve(tls.cert), "tls cert", PATH_RE)) : "",
    tlsKeyToml: tls ? toml(checked(path.resolve(tls.key), "tls key", PATH_RE)) : "",
    realm: realm ?? false,
    serviceUser: checked(opts.serviceUser ?? "mata", "--user", /^[a-z_][a-z0-9_-]{0,31}$/),
    state: checked(config.state, "state", PATH_RE),
    lowPort: config.port > 0 && config.port < 1024,
    memoryMax: checked(opts.memoryMax ?? `${Math.floor((totalmem() * 0.75) / 2 ** 20)}M`, "--memory-max", /^\d+[KMGT]?$|^\d{1,3}%$/),
  };
  if (realm) {
    const httpKeytab = config.kerberos?.keytab ?? path.join(out, "http.keytab");
    Object.assign(vars, {
      kdc: checked(opts.kdc ?? host, "--kdc", /^[A-Za-z0-9.-]+(:\d{1,5})?$/),
      smbKeytab: path.join(out, "cifs.keytab"),
      httpKeytab,
      httpKeytabToml: toml(httpKeytab),
      krb5Config: path.join(out, "krb5-mata.conf"),
    });
  }
  const files: Record<string, string> = {
    "smb-mata.conf": fillTemplate(smbTemplate, vars),
    "pam.d/mata": fillTemplate(pamTemplate, vars),
    "systemd/mata.service": fillTemplate(unitTemplate, vars),
    "mata.toml": fillTemplate(configTemplate, vars),
  };
  if (realm) files["krb5-mata.conf"] = fillTemplate(krb5Template, vars);
  return files;
}

/** Writes rendered files under `out`, each through a temp file and a rename, so none is ever half-written. */
export function writeAppliance(out: string, files: Record<string, string>): string[] {
  const written: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(out, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    const tmp = `${abs}.tmp-${process.pid}`;
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, abs);
    written.push(abs);
  }
  return written;
}
