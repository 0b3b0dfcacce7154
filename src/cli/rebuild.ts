import { existsSync, mkdirSync, statSync } from "node:fs";
import { configFlags, type Command } from "./command.ts";
import { systemClock } from "../clock.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { contextOver } from "../services.ts";
import { rebuildDatabase } from "../sync/rebuild.ts";
import { importGrantsFromShare, type GrantImport } from "../access/acl-import.ts";
import { serverRunning } from "../backup/backup.ts";
import { importChecksums } from "../fixity/fixity.restore.ts";

const FLAGS = configFlags("root", "state", "depth");

/** `mata rebuild`: recovers a lost or broken database from the sidecars in the share (stop `mata serve` first). */
export const rebuildCommand: Command = {
  name: "rebuild",
  summary: "Re-create the database from the .mata sidecars in the share (run with the service stopped)",
  usage: `mata rebuild [--json] [options]\n  --json            print the report as JSON\n  The previous mata.db is kept as mata.db.before-rebuild-TIME.\n${FLAGS.usage}`,
  options: { ...FLAGS.options, json: { type: "boolean" } },
  async run({ values }) {
    const { json, ...flags } = values;
    const config = loadConfig(flags as Record<string, string>);
    if (!existsSync(config.root) || !statSync(config.root).isDirectory()) throw new ConfigError(`root ${config.root} is not a folder`);
    // The running server holds the database open and would keep writing to the one being replaced.
    if (serverRunning(config.state)) throw new ConfigError(`mata serve is running on the state dir ${config.state}: stop it first (systemctl stop mata)`);
    mkdirSync(config.state, { recursive: true });
    const steps = [...(config.acls ? [{ name: "grants", run: importGrantsFromShare }] : []), { name: "checksums", run: importChecksums }];
    const r = await rebuildDatabase(config, (db) => contextOver(config, db, { clock: systemClock }), steps);
    const grants = r.restored.grants as GrantImport | undefined;
    const sums = r.restored.checksums as { checksums: number } | undefined;
    if (json) console.log(JSON.stringify(r));
    else {
      console.log(
        `rebuilt: ${r.scan.datasets.present} datasets (${r.scan.datasets.copied} copies), ${r.scan.files.present} files, ` +
          `${r.mirrors} metadata mirrors, ${r.parents} parent links` +
          (r.skippedParents ? ` (${r.skippedParents} skipped: unknown or cyclic)` : "") +
          (grants ? `, ${grants.grants} grants on ${grants.datasets} datasets from the share's ACLs` : "") +
          (sums ? `, ${sums.checksums} file checksums` : "") +
          (r.unreadableMirrors.length ? `\nmetadata mirrors that could not be read (those datasets have no metadata): ${r.unreadableMirrors.join(", ")}` : "") +
          (r.previous ? `\nprevious database kept as ${r.previous}` : ""),
      );
    }
    return 0;
  },
};
