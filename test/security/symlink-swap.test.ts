// A share user swaps folders for symlinks to outside files while downloads run: nothing outside the dataset is served.
import { afterAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { reconcileAll } from "../../src/sync/reconcile.ts";
import { withUser } from "../support/auth.ts";
import { testContext } from "../support/env.ts";
import { at } from "../sync/helpers.ts";

const ctx = testContext();
const app = createApp(ctx);
const outside = mkdtempSync(path.join(os.tmpdir(), "mata-outside-"));
afterAll(() => {
  ctx.db.close();
  rmSync(outside, { recursive: true, force: true });
});
const root = ctx.config.root;
const get = (id: number, rel: string) => app.request(`/api/v1/datasets/${id}/files/${rel}`, { headers: withUser(ctx, "admin", { admin: true }).headers });

test("a dataset folder, or a folder inside it, swapped for a symlink to outside files is refused (404), never followed", async () => {
  mkdirSync(path.join(root, "scan/sub"), { recursive: true });
  writeFileSync(path.join(root, "scan/data.bin"), "dataset bytes");
  writeFileSync(path.join(root, "scan/sub/slice.bin"), "dataset slice");
  mkdirSync(path.join(outside, "sub"));
  writeFileSync(path.join(outside, "data.bin"), "SECRET from outside");
  writeFileSync(path.join(outside, "sub/slice.bin"), "SECRET slice");
  await reconcileAll(ctx);
  const id = at(ctx, "scan").id;
  expect(await (await get(id, "data.bin")).text()).toBe("dataset bytes");

  // The file itself a symlink, a folder inside the dataset a symlink, the dataset folder a symlink: all refused.
  renameSync(path.join(root, "scan/data.bin"), path.join(root, "scan/data.real"));
  symlinkSync(path.join(outside, "data.bin"), path.join(root, "scan/data.bin"));
  expect((await get(id, "data.bin")).status).toBe(404);
  rmSync(path.join(root, "scan/data.bin"));
  renameSync(path.join(root, "scan/data.real"), path.join(root, "scan/data.bin"));
  renameSync(path.join(root, "scan/sub"), path.join(root, "scan/sub.real"));
  symlinkSync(path.join(outside, "sub"), path.join(root, "scan/sub"));
  expect((await get(id, "sub/slice.bin")).status).toBe(404);
  rmSync(path.join(root, "scan/sub"));
  renameSync(path.join(root, "scan/sub.real"), path.join(root, "scan/sub"));
  renameSync(path.join(root, "scan"), path.join(root, "scan.real"));
  symlinkSync(outside, path.join(root, "scan"));
  const swapped = await get(id, "data.bin");
  expect(swapped.status).toBe(404);
  expect(await swapped.text()).not.toContain("SECRET");
  rmSync(path.join(root, "scan"));
  renameSync(path.join(root, "scan.real"), path.join(root, "scan"));
  expect(await (await get(id, "sub/slice.bin")).text()).toBe("dataset slice");
});

test("swapped in a loop while 400 downloads run: every answer is the dataset's bytes or a 404, never the outside file", async () => {
  const id = at(ctx, "scan").id;
  // Another process swaps the dataset folder for a symlink and back as fast as it can.
  const loop = `cd '${root}'; while :; do mv scan scan.real; ln -s '${outside}' scan; rm scan; mv scan.real scan; done`;
  const swapper = Bun.spawn(["bash", "-c", loop], { stdout: "ignore", stderr: "ignore" });
  const answers: { status: number; body: string }[] = [];
  for (let round = 0; round < 20; round++) {
    const batch = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await get(id, i % 2 ? "data.bin" : "sub/slice.bin");
        return { status: r.status, body: await r.text() };
      }),
    );
    answers.push(...batch);
  }
  swapper.kill("SIGKILL");
  await swapper.exited;
  // Killed mid-swap: put the folder back.
  if (lstatSync(path.join(root, "scan"), { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(path.join(root, "scan"));
  if (existsSync(path.join(root, "scan.real"))) renameSync(path.join(root, "scan.real"), path.join(root, "scan"));
  expect(answers.filter((a) => a.body.includes("SECRET"))).toEqual([]);
  for (const a of answers) {
    expect([200, 404]).toContain(a.status);
    if (a.status === 200) expect(["dataset bytes", "dataset slice"]).toContain(a.body);
  }
  // Both outcomes happened: the race was real.
  expect(answers.some((a) => a.status === 200)).toBe(true);
  expect(answers.some((a) => a.status === 404)).toBe(true);
});
