// PATH_OR_ID: how the client verbs name a dataset, by id or by its folder under the share root.
import { ClientError, type MataClient } from "./http.ts";

type Listed = { id: number; path: string; state?: string };

/** Help line for the PATH_OR_ID argument, shared by the verbs that take one. */
export const PATH_OR_ID_USAGE = `  PATH_OR_ID            a dataset id, or its folder relative to the share root as \`mata datasets\` shows it
                        (a folder named only by digits is written ./2024)`;

/** The dataset id a PATH_OR_ID names: digits are an id; anything else is looked up by its exact folder path. */
export async function resolveDataset(client: MataClient, ref: string): Promise<number> {
  const trimmed = ref.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const folder = trimmed.replace(/^\.\//, "").replace(/\/+$/, "");
  if (folder === "") throw new ClientError(`${JSON.stringify(ref)} names no dataset: give an id or a folder path`);
  const r = await client.request<{ items: Listed[] }>("GET", `/api/v1/datasets?path=${encodeURIComponent(folder)}&limit=10`);
  const hits = r.items.filter((d) => d.path === folder);
  // A folder deleted and made again leaves a missing dataset at the same path: the present one is meant.
  const hit = hits.find((d) => d.state !== "missing") ?? hits[0];
  if (!hit) throw new ClientError(`no dataset at ${JSON.stringify(folder)} on ${client.url} (see \`mata datasets\` for paths and ids)`, 404);
  return hit.id;
}
