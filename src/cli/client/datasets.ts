import { UsageError, type Command } from "../command.ts";
import { formatBytes, table } from "./format.ts";
import { CLIENT_OPTIONS, CLIENT_USAGE, connect } from "./settings.ts";

/** A dataset as `GET /api/v1/datasets` lists it (the fields this verb shows). */
interface DatasetItem {
  id: number;
  path: string;
  title: string;
  owner: string | null;
  state: string;
  files: { count: number; bytes: number };
}

const PAGE = 1000;

/** Parses `--limit`: a whole number from 1, or undefined for every dataset. */
function limitFlag(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d{1,9}$/.test(v) || Number(v) < 1) throw new UsageError(`--limit must be a whole number from 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `mata datasets`: the dataset list of a running server, for scripts (--json) and people (a table). */
export const datasetsCommand: Command = {
  name: "datasets",
  summary: "List the datasets of a running server (id, path, title, owner, files, size)",
  usage: `mata datasets [--json] [--query Q] [--limit N] [--url URL] [--token TOKEN]
  --json                print the API's JSON, { items, total }
  --query Q             only datasets whose path or title contains Q
  --limit N             at most N datasets (default: all)
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, json: { type: "boolean" }, query: { type: "string" }, limit: { type: "string" } },
  async run({ values, positionals }) {
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")} (filter with --query)`);
    const limit = limitFlag(values.limit);
    const client = connect(values);
    const q = typeof values.query === "string" && values.query ? `&q=${encodeURIComponent(values.query)}` : "";
    // Pages of up to 1,000 (the API's largest) until the limit or the end.
    const items: DatasetItem[] = [];
    let total = 0;
    do {
      const want = Math.min(PAGE, (limit ?? Infinity) - items.length);
      const page = await client.request<{ items: DatasetItem[]; total: number }>("GET", `/api/v1/datasets?limit=${want}&offset=${items.length}${q}`);
      items.push(...page.items);
      total = page.total;
      if (page.items.length < want) break;
    } while (items.length < Math.min(total, limit ?? Infinity));
    if (values.json) {
      console.log(JSON.stringify({ items, total }));
      return 0;
    }
    if (items.length === 0) {
      console.error(q ? "mata: no dataset matches" : "mata: no datasets yet");
      return 0;
    }
    const rows = items.map((d) => [String(d.id), d.path, d.title, d.owner ?? "", String(d.files.count), formatBytes(d.files.bytes)]);
    console.log(table(["ID", "PATH", "TITLE", "OWNER", "FILES", "SIZE"], rows, ["right", "left", "left", "left", "right", "right"]));
    if (items.length < total) console.error(`mata: ${items.length} of ${total} datasets shown`);
    return 0;
  },
};
