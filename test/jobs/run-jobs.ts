// A stand-in `mata serve` for the crash test: runs the job queue on a state dir until it is killed.
import { loadConfig } from "../../src/config.ts";
import { queueFor, startJobs } from "../../src/jobs/index.ts";
import { previewJob } from "../../src/preview/preview.service.ts";
import { createContext } from "../../src/services.ts";

const [root, state, datasetId, generation, coarseVoxels] = process.argv.slice(2);
const config = { ...loadConfig({ root, state, listen: "127.0.0.1:0" }, {}), acls: false, jobConcurrency: 1 };
const ctx = createContext(config);
await startJobs(ctx, { settleMs: 0, kinds: [previewJob({ encoding: "raw", coarseVoxels: coarseVoxels ? Number(coarseVoxels) : undefined })] });
if (datasetId) queueFor(ctx).enqueue("preview", { datasetId: Number(datasetId), generation: Number(generation), dedupeKey: `preview:${datasetId}` });
console.log("ready");
await new Promise(() => {});
