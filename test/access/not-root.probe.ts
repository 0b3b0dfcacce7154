// Run by not-root.test.ts as an ordinary user: with acls on, Mata must not fail, and must say why the share is not updated.
import { createApp } from "../../src/app.ts";
import { startAccess } from "../../src/access/access.service.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";

const ctx = testContext({ acls: true });
const stop = startAccess(ctx);
const app = createApp(ctx);
const id = putDataset(ctx, "mine", { "a.txt": "a" }, { owner: "probe_owner" });
withUser(ctx, "probe_viewer");
const res = await app.request(`/api/v1/datasets/${id}/access`, {
  method: "PUT",
  headers: { ...withUser(ctx, "probe_owner").headers, "Content-Type": "application/json" },
  body: JSON.stringify({ viewers: ["probe_viewer"] }),
});
for (const l of ctx.hooks.datasetSeen) l({ datasetId: id, path: "mine", walk: { maxCtimeMs: Date.now(), uids: new Set([0]) } });
await stop();
const acl = Bun.spawnSync(["getfacl", "-p", "--omit-header", `${ctx.config.root}/mine`]).stdout.toString();
console.log(JSON.stringify({ status: res.status, body: await res.json(), acl }));
ctx.cleanup();
