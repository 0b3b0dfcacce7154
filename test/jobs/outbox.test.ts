// `mata scan` beside a running `mata serve`: the scan's changes reach the server's queue through the database.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openDatabase } from "../../src/db/database.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { recordChangesForServe } from "../../src/jobs/outbox.ts";
import { contextOver } from "../../src/services.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { testContext } from "../support/env.ts";
import { waitFor } from "./fixture.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

test("a scan in another process leaves its changes in the database; the server queues jobs for them", async () => {
  const serve = testContext({
    rules: [
      { action: "preview", timeoutSeconds: 60 },
      { glob: "**/*.csv", command: ["true"], timeoutSeconds: 10 },
    ],
  });
  cleanups.push(() => serve.cleanup());
  // A long settle: the jobs stay queued while the test looks at them.
  cleanups.push(await startJobs(serve, { settleMs: 600_000, outboxMs: 50 }));
  const jobs = (kind: string) => serve.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE kind = ?").get(kind)!.n;
  expect(jobs("preview") + jobs("command")).toBe(0);

  // The other process: its own connection to the same database, as `mata scan` has.
  const scan = contextOver(serve.config, openDatabase(path.join(serve.config.state, "mata.db")));
  cleanups.push(() => scan.db.close());
  scan.hooks.contentChanged.push(recordChangesForServe(scan));
  const dir = path.join(serve.config.root, "knee");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "knee.mha"), "header");
  writeFileSync(path.join(dir, "table.csv"), "1,2");
  await reconcileAll(scan);

  await waitFor("the server queued both jobs", () => jobs("preview") === 1 && jobs("command") === 1, 10_000);
  expect(serve.db.query<{ n: number }, []>("SELECT count(*) AS n FROM change_outbox").get()!.n).toBe(0);
});
