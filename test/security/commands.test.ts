// Rule commands and plug-ins never run with root's reach: they run as the unix owner of their dataset folder.
import { afterAll, expect, test } from "bun:test";
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startJobs } from "../../src/jobs/index.ts";
import { testContext } from "../support/env.ts";
import { unixUsers } from "../access/users.ts";
import { addDataset, commitChange, waitFor } from "../jobs/fixture.ts";
import { readTags } from "../../src/tags/tags.service.ts";

const people = unixUsers(["own"]);
const owner = people.user.own!;
const uid = Number(Bun.spawnSync(["id", "-u", owner], { stdout: "pipe" }).stdout.toString().trim());
// The state dir is the service's own (0700, root): a command must not be able to write there.
const ctx = testContext({
  rules: [
    {
      glob: "**/*.csv",
      command: [
        "sh",
        "-c",
        'id -un > ran-as.txt; (cat /etc/shadow > /dev/null 2>&1 && echo read || echo refused) > shadow.txt; touch "$MATA_STATE_PROBE/written-by-$(id -un)" 2>/dev/null; true',
      ],
      timeoutSeconds: 10,
    },
    {
      glob: "**/*.notes",
      plugin: [
        "sh",
        "-c",
        'who=$(id -un); (cat /etc/shadow > /dev/null 2>&1 && echo read || echo refused) > plug-shadow.txt; printf \'{"tags":[{"key":"Ran as","value":"%s"}]}\' "$who"',
      ],
      subtree: "Plug",
      timeoutSeconds: 10,
    },
  ],
});
afterAll(() => {
  people.remove();
  ctx.db.close();
});

test("a command runs as the owner of its dataset folder: it cannot read /etc/shadow or write outside what the owner may", async () => {
  const mine = addDataset(ctx, "owned");
  const rootOwned = addDataset(ctx, "root-owned");
  const dir = path.join(ctx.config.root, "owned");
  writeFileSync(path.join(dir, "table.csv"), "1,2\n");
  chownSync(dir, uid, 100);
  writeFileSync(path.join(ctx.config.root, "root-owned", "table.csv"), "3,4\n");
  process.env.MATA_STATE_PROBE = ctx.config.state;
  const stop = await startJobs(ctx, { settleMs: 10 });
  try {
    commitChange(ctx, mine);
    commitChange(ctx, rootOwned);
    const done = () => ctx.db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE kind = 'command' AND state = 'done'").get()!.n;
    await waitFor("both commands", () => done() === 2, 30_000);
  } finally {
    await stop();
  }
  expect(readFileSync(path.join(dir, "ran-as.txt"), "utf8").trim()).toBe(owner);
  expect(statSync(path.join(dir, "ran-as.txt")).uid).toBe(uid);
  expect(readFileSync(path.join(dir, "shadow.txt"), "utf8").trim()).toBe("refused");
  expect(existsSync(path.join(ctx.config.state, `written-by-${owner}`))).toBe(false);
  expect(existsSync(path.join(ctx.config.state, "written-by-root"))).toBe(true);
  // A folder owned by root (the service's own) runs as the service.
  expect(readFileSync(path.join(ctx.config.root, "root-owned", "ran-as.txt"), "utf8").trim()).toBe("root");
});

test("a plug-in runs the same way: as the folder's owner, refused what the owner may not read", async () => {
  const id = addDataset(ctx, "noted");
  const dir = path.join(ctx.config.root, "noted");
  writeFileSync(path.join(dir, "scan.notes"), "objective: 20x\n");
  chownSync(dir, uid, 100);
  const stop = await startJobs(ctx, { settleMs: 10 });
  try {
    commitChange(ctx, id);
    await waitFor("the plug-in", () => ctx.db.query<{ state: string }, []>("SELECT state FROM jobs WHERE kind = 'plugin'").get()?.state === "done", 30_000);
  } finally {
    await stop();
  }
  expect(readFileSync(path.join(dir, "plug-shadow.txt"), "utf8").trim()).toBe("refused");
  expect(statSync(path.join(dir, "plug-shadow.txt")).uid).toBe(uid);
  expect(JSON.stringify(readTags(ctx, id).tags)).toContain(`"value":"${owner}"`);
});
