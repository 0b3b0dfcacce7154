import { configFlags, UsageError, type Command } from "./command.ts";
import { loadConfig } from "../config.ts";
import { ApplianceError, renderAppliance, writeAppliance } from "../access/appliance.service.ts";

const FLAGS = configFlags("root", "state", "listen", "depth", "auth");

/** `mata appliance render --out DIR`: the Samba, PAM, systemd, config and Kerberos files for this host. */
export const applianceCommand: Command = {
  name: "appliance",
  summary: "Render the Samba share include, PAM service, systemd unit, config and Kerberos files for this host",
  usage: `mata appliance render --out DIR [options]
  --out DIR         where to write the files (the install script uses /etc/mata)
  --hostname NAME   host name for the share comment and Kerberos principals (default: this host's)
  --realm REALM     Kerberos realm: adds smbd dedicated-keytab options and krb5-mata.conf
  --kdc HOST[:PORT] the realm's KDC (default: this host)
  --share NAME      the Samba share name (default: data)
  --binary PATH     the mata executable the unit runs (default: this one)
  --tls-cert FILE   TLS certificate for the web (with --tls-key; default: tls from the config)
  --tls-key FILE    its private key
  --service-user NAME  the account the server runs as, root keeping only a small helper (default: mata)
  --memory-max SIZE the unit's MemoryMax, e.g. 12G or 75% (default: three quarters of this machine's memory)
${FLAGS.usage}`,
  options: {
    ...FLAGS.options,
    out: { type: "string" },
    hostname: { type: "string" },
    realm: { type: "string" },
    kdc: { type: "string" },
    share: { type: "string" },
    binary: { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "service-user": { type: "string" },
    "memory-max": { type: "string" },
  },
  async run({ values, positionals }) {
    if (positionals[0] !== "render" || positionals.length !== 1)
      throw new UsageError(`expected the subcommand "render"${positionals.length ? `, got ${JSON.stringify(positionals.join(" "))}` : ""}`);
    const {
      out,
      hostname,
      realm,
      kdc,
      share,
      binary,
      "tls-cert": tlsCert,
      "tls-key": tlsKey,
      "service-user": serviceUser,
      "memory-max": memoryMax,
      ...flags
    } = values as Record<string, string | undefined>;
    if (!out) throw new UsageError("--out DIR is required");
    if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new UsageError("--tls-cert and --tls-key go together");
    const config = loadConfig(flags as Record<string, string>);
    try {
      const files = renderAppliance(config, { out, hostname, realm, kdc, shareName: share, binary, tlsCert, tlsKey, serviceUser, memoryMax });
      for (const f of writeAppliance(out, files)) console.log(f);
      return 0;
    } catch (e) {
      if (e instanceof ApplianceError) {
        console.error(`mata appliance: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
};
