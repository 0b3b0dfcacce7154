// Access rules that need the access feature's own data to find their dataset.
import type { Rule } from "../web/access-levels.ts";
import { accessRepo } from "./access.repo.ts";

/** A job is cancelled or retried by those who may edit the dataset it works for (admins for share-wide jobs). */
export const JOB_RULE: Rule = { level: "edit", resolve: (ctx, v) => (/^\d{1,15}$/.test(v) ? accessRepo(ctx.db).jobDatasetId(Number(v)) : undefined) };
