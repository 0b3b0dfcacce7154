import { UsageError, type Command } from "../command.ts";
import type { TagNode } from "../../tags/tag.types.ts";
import { ClientError, type MataClient } from "./http.ts";
import { PATH_OR_ID_USAGE, resolveDataset } from "./resolve.ts";
import { CLIENT_OPTIONS, CLIENT_USAGE, connect } from "./settings.ts";
import { applyAssignments, parseAssignment, type TagAssignment } from "./tag-edit.ts";

/** The tree and version `GET|PUT /api/v1/datasets/{id}/tags` answer with (older servers said `version`). */
interface VersionedTags {
  tags: TagNode[];
  tagsVersion?: number;
  version?: number;
}

const versionOf = (t: VersionedTags) => t.tagsVersion ?? t.version;

/** A tag tree as indented `Key = value` lines (a heading with no value shows its key alone). */
export function formatTagTree(nodes: TagNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [`${"  ".repeat(depth)}${n.key}${n.value === "" ? "" : ` = ${n.value}`}`, ...formatTagTree(n.children, depth + 1)]);
}

/** `mata tags get`: a dataset's tags as a tree, or the API's JSON. */
export const tagsGetCommand: Command = {
  name: "tags get",
  summary: "Print a dataset's tags as an indented tree of Key = value",
  usage: `mata tags get PATH_OR_ID [--json] [--url URL] [--token TOKEN]
${PATH_OR_ID_USAGE}
  --json                print the API's JSON, { tags: [{ key, value, children }], tagsVersion }
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, json: { type: "boolean" } },
  async run({ values, positionals }) {
    const [ref, ...extra] = positionals;
    if (!ref) throw new UsageError("tags get needs a dataset PATH_OR_ID");
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const client = connect(values);
    const id = await resolveDataset(client, ref);
    const r = await client.request<VersionedTags>("GET", `/api/v1/datasets/${id}/tags`);
    if (values.json) console.log(JSON.stringify(r));
    else if (r.tags.length === 0) console.error(`mata: dataset ${id} has no tags`);
    else console.log(formatTagTree(r.tags).join("\n"));
    return 0;
  },
};

/**
 * Reads the tree with its version, applies the assignments and writes it back at that version; when
 * someone else changed the tags in between (409) it reads and applies once more, then gives up.
 */
export async function setTags(client: MataClient, id: number, assignments: TagAssignment[]): Promise<VersionedTags> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.request<VersionedTags>("GET", `/api/v1/datasets/${id}/tags`);
    const tags = applyAssignments(current.tags, assignments);
    try {
      return await client.request<VersionedTags>("PUT", `/api/v1/datasets/${id}/tags`, { tags, version: versionOf(current) });
    } catch (e) {
      if (!(e instanceof ClientError) || e.status !== 409) throw e;
      if (attempt >= 2)
        throw new ClientError(`the tags of dataset ${id} changed again while yours were applied (409 twice); nothing was changed, run it again`, 409);
    }
  }
}

/** `mata tags set`: creates or updates tags (nested as Scan/Voltage=90), keeping all the others and their order. */
export const tagsSetCommand: Command = {
  name: "tags set",
  summary: "Create or update tags of a dataset (nested keys as Scan/Voltage=90), keeping the others",
  usage: `mata tags set PATH_OR_ID KEY=VALUE... [--json] [--url URL] [--token TOKEN]
${PATH_OR_ID_USAGE}
  KEY=VALUE             a tag to create or update; nested keys joined by /, as Scan/Voltage=90;
                        the value is everything after the first = (it may be empty)
  --json                print the API's answer, { tags, tagsVersion }
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, json: { type: "boolean" } },
  async run({ values, positionals }) {
    const [ref, ...args] = positionals;
    if (!ref) throw new UsageError("tags set needs a dataset PATH_OR_ID and KEY=VALUE pairs");
    if (args.length === 0) throw new UsageError("tags set needs at least one KEY=VALUE");
    const assignments = args.map(parseAssignment);
    const client = connect(values);
    const id = await resolveDataset(client, ref);
    const r = await setTags(client, id, assignments);
    if (values.json) console.log(JSON.stringify(r));
    else console.error(`mata: dataset ${id}: ${args.length === 1 ? "1 tag" : `${args.length} tags`} set (tags version ${versionOf(r)})`);
    return 0;
  },
};

/** `mata tags`: the verbs on a dataset's tags. */
export const tagsCommand: Command = {
  name: "tags",
  summary: "Read or change a dataset's tags on a running server: tags get | tags set",
  usage: `mata tags get PATH_OR_ID [--json] | mata tags set PATH_OR_ID KEY=VALUE...   (mata tags VERB --help)
  get                   print a dataset's tags as an indented tree
  set                   create or update tags, nested keys as Scan/Voltage=90`,
  subcommands: [tagsGetCommand, tagsSetCommand],
  async run() {
    throw new UsageError("tags needs a verb: get or set");
  },
};
