// A stand-in `mata serve` for the crash test: runs the job queue on a state dir until it is killed.
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/database.ts";
import { systemClock } from "../../src/clock.ts";
import { newHooks } from "../../src/context.ts";
import { queueFor, startJobs } from "../../src/jobs/index.ts";

const [root, state, datasetId, generation] = process.argv.slice(2);
const config = { ...loadConfig({ root, state, listen: "127.0.0.1:0" }, {}), acls: false, jobConcurrency: 1 };
const ctx = { config, db: openDatabase(path.join(state!, "mata.db")), clock: systemClock, hooks: newHooks() };
await startJobs(ctx, { settleMs: 0, encoding: "raw" });
if (datasetId) queueFor(ctx).enqueue("preview", { datasetId: Number(datasetId), generation: Number(generation), dedupeKey: `preview:${datasetId}` });
console.log("ready");
await new Promise(() => {});
