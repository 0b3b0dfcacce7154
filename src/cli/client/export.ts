import { UsageError, type Command } from "../command.ts";
import { ClientError, type MataClient } from "./http.ts";
import { PATH_OR_ID_USAGE, resolveDataset } from "./resolve.ts";
import { CLIENT_OPTIONS, CLIENT_USAGE, connect } from "./settings.ts";

const KIND = "export.ome-zarr";

/** A job as `GET /api/v1/datasets/{id}/jobs` lists it (the fields the verb reads). */
interface JobItem {
  id: number;
  state: "queued" | "running" | "done" | "failed" | "cancelled";
  progress: number;
  error: string | null;
}

/**
 * Waits for an export job to end. A change to the volume stops a running export and queues another for the new
 * content (the first ends "cancelled", superseded): the wait follows that one.
 */
export async function waitForExport(client: MataClient, datasetId: number, jobId: number, pollMs = 500, timeoutMs = 24 * 3600_000): Promise<JobItem> {
  const end = Date.now() + timeoutMs;
  let following = jobId;
  for (;;) {
    const { items } = await client.request<{ items: JobItem[] }>("GET", `/api/v1/datasets/${datasetId}/jobs?kind=${KIND}&limit=50`);
    const job = items.find((j) => j.id === following);
    if (!job) throw new ClientError(`export job ${following} of dataset ${datasetId} is no longer listed`);
    const newer = items.filter((j) => j.id > following).sort((a, b) => a.id - b.id)[0];
    if (job.state === "cancelled" && job.error?.startsWith("superseded") && newer) following = newer.id;
    else if (job.state === "done" || job.state === "failed" || job.state === "cancelled") return job;
    if (Date.now() > end) throw new ClientError(`export job ${following} still ${job.state} after ${Math.round(timeoutMs / 1000)} s`);
    await Bun.sleep(pollMs);
  }
}

/** `mata export ome-zarr`: queues the export of a dataset's volumes, and with --wait waits for it to end. */
export const exportOmeZarrCommand: Command = {
  name: "export ome-zarr",
  summary: "Write each volume of a dataset as OME-Zarr 0.4 into its folder, derived/<volume>.ome.zarr",
  usage: `mata export ome-zarr PATH_OR_ID [--file FILE] [--wait] [--json] [--url URL] [--token TOKEN]
${PATH_OR_ID_USAGE}
  --file FILE           only the volume this file names (relative to the dataset folder); default: every volume
  --wait                wait until the export ends; exit 1 when it failed or was cancelled
  --json                print the API's answer (with --wait: the job as it ended)
${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, file: { type: "string" }, wait: { type: "boolean" }, json: { type: "boolean" } },
  async run({ values, positionals }) {
    const [ref, ...extra] = positionals;
    if (!ref) throw new UsageError("export ome-zarr needs a dataset PATH_OR_ID");
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const client = connect(values);
    const id = await resolveDataset(client, ref);
    const body = typeof values.file === "string" ? { file: values.file } : undefined;
    const queued = await client.request<{ jobId: number }>("POST", `/api/v1/datasets/${id}/export/ome-zarr`, body);
    if (!values.wait) {
      if (values.json) console.log(JSON.stringify(queued));
      else console.error(`mata: export of dataset ${id} queued as job ${queued.jobId}; it writes derived/<volume>.ome.zarr (--wait waits for it)`);
      return 0;
    }
    const job = await waitForExport(client, id, queued.jobId);
    if (values.json) console.log(JSON.stringify(job));
    if (job.state === "done") {
      if (!values.json) console.error(`mata: dataset ${id} exported (job ${job.id}): derived/<volume>.ome.zarr in its folder`);
      return 0;
    }
    throw new ClientError(`export job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ""}`);
  },
};

/** `mata export`: the export verbs (one so far). */
export const exportCommand: Command = {
  name: "export",
  summary: "Export a dataset on a running server: export ome-zarr",
  usage: `mata export ome-zarr PATH_OR_ID [--wait]   (mata export ome-zarr --help)
  ome-zarr              write each volume as OME-Zarr 0.4 (napari, Fiji, Neuroglancer) to derived/<volume>.ome.zarr`,
  subcommands: [exportOmeZarrCommand],
  async run() {
    throw new UsageError("export needs a format: ome-zarr");
  },
};
