import { UsageError, type Command } from "../command.ts";
import { table } from "./format.ts";
import { CLIENT_OPTIONS, CLIENT_USAGE, connect } from "./settings.ts";

/** A hit as `GET /api/v1/search` returns it (the fields this verb shows). */
interface SearchHit {
  id: number;
  title: string;
  path: string;
  matches: number;
}

/** `mata search`: the server's search (words, "phrases", prefix*, Key=value), most matches first. */
export const searchCommand: Command = {
  name: "search",
  summary: "Search the datasets of a running server by words, phrases and tags, most matches first",
  usage: `mata search QUERY... [--json] [--url URL] [--token TOKEN]
  QUERY                 words (all must appear), "a phrase", biop* (prefix), Species=sheep (a tag), Patient: (a key)
  --json                print the API's JSON, { items: [{ id, title, matches, ... }], total }
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, json: { type: "boolean" } },
  async run({ values, positionals }) {
    const q = positionals.join(" ").trim();
    if (!q) throw new UsageError("search needs a QUERY");
    const client = connect(values);
    const r = await client.request<{ items: SearchHit[]; total: number }>("GET", `/api/v1/search?q=${encodeURIComponent(q)}&limit=200`);
    if (values.json) {
      console.log(JSON.stringify(r));
      return 0;
    }
    if (r.items.length === 0) {
      console.error(`mata: nothing matches ${JSON.stringify(q)}`);
      return 0;
    }
    const rows = r.items.map((h) => [String(h.id), String(h.matches), h.path, h.title]);
    console.log(table(["ID", "MATCHES", "PATH", "TITLE"], rows, ["right", "right"]));
    if (r.items.length < r.total) console.error(`mata: ${r.items.length} of ${r.total} hits shown`);
    return 0;
  },
};
