// A hostile lab member on the real share: a real smbd from the rendered appliance include over the root a separated
// `mata serve` (privilege separation on, ACLs on) manages. Mallory owns one dataset; Ann owns another and grants
// her nothing. Everything Mallory does goes through smbclient, as Explorer would.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { renderAppliance, writeAppliance } from "../../src/access/appliance.service.ts";
import { tempDir } from "../support/env.ts";
import { startSmbd, type Smbd } from "../support/smbd.ts";
import { createUnixUser, writePamService, type UnixUser } from "../support/unix-users.ts";
import { eventually, serviceAccount, startSeparatedServer, uidOf, type SeparatedServer } from "../support/separated-server.ts";

const tmp = tempDir("mata-smb-hostile-");
const root = path.join(tmp.dir, "root");
const state = path.join(tmp.dir, "state");
const srv = serviceAccount();
let ann: UnixUser;
let mallory: UnixUser;
let smbd: Smbd;
let server: SeparatedServer;
const local = path.join(tmp.dir, "upload");
const basic = (u: UnixUser) => ({ Authorization: `Basic ${btoa(`${u.name}:${u.password}`)}` });
const asMallory = (commands: string) => smbd.client("data", mallory.name, mallory.password, commands);

async function datasetId(folder: string): Promise<number> {
  return eventually(`dataset ${folder}`, async () => {
    const r = await fetch(`${server.url}/api/v1/datasets`, { headers: basic(mallory) });
    return ((await r.json()) as { items: { id: number; path: string }[] }).items.find((d) => d.path === folder)?.id;
  });
}

beforeAll(async () => {
  ann = createUnixUser("ann");
  mallory = createUnixUser("mal");
  for (const [who, folder] of [
    [ann, "ann-scan"],
    [mallory, "mal-scan"],
  ] as const) {
    mkdirSync(path.join(root, folder), { recursive: true });
    chownSync(path.join(root, folder), uidOf(who.name), 100);
  }
  writeFileSync(path.join(root, "ann-scan", "secret.raw"), "ANN-SECRET-BYTES");
  chownSync(path.join(root, "ann-scan", "secret.raw"), uidOf(ann.name), 100);
  writeFileSync(local, "touch pwned\n");
  const pam = writePamService(tmp.dir);
  server = await startSeparatedServer(tmp.dir, [
    `root = ${JSON.stringify(root)}`,
    `state = ${JSON.stringify(state)}`,
    `auth = "pam"`,
    `user = "${srv.name}"`,
    `pam_service = "${pam.service}"`,
    `pam_confdir = ${JSON.stringify(pam.confdir)}`,
    `debounce_ms = 100`,
    `stable_ms = 300`,
    `[[rules]]`,
    `glob = "*"`,
    `command = ["tar", "-cf", "/dev/null"]`,
  ]);
  const rendered = path.join(tmp.dir, "appliance");
  writeAppliance(rendered, renderAppliance(loadConfig({ root, state }, {}), { out: rendered, hostname: "matatest", shareName: "data" }));
  smbd = await startSmbd(path.join(tmp.dir, "smb"), path.join(rendered, "smb-mata.conf"));
  for (const u of [ann, mallory]) smbd.addUser(u.name, u.password);
  await datasetId("ann-scan");
  await datasetId("mal-scan");
  // Mata has applied each owner's ACLs (no grants) by the time .mata belongs to the server.
  await eventually("ACLs applied", () => (statSync(path.join(root, "ann-scan", ".mata")).uid === srv.uid ? true : undefined));
});

afterAll(async () => {
  await smbd?.stop();
  server?.kill();
  ann?.remove();
  mallory?.remove();
  srv.remove();
  tmp.cleanup();
});

test("Mallory cannot read or change Ann's dataset over SMB, nor reach it over the web", async () => {
  const get = asMallory(`get ann-scan\\secret.raw ${path.join(tmp.dir, "stolen")}`);
  expect(get.ok).toBe(false);
  expect(get.out).toContain("NT_STATUS_ACCESS_DENIED");
  expect(existsSync(path.join(tmp.dir, "stolen")) && readFileSync(path.join(tmp.dir, "stolen"), "utf8")).not.toBe("ANN-SECRET-BYTES");
  expect(asMallory(`put ${local} ann-scan\\planted.txt`).ok).toBe(false);
  expect(asMallory("del ann-scan\\secret.raw").ok).toBe(false);
  const id = await datasetId("ann-scan");
  expect((await fetch(`${server.url}/api/v1/datasets/${id}/files/secret.raw`, { headers: basic(mallory) })).status).toBe(403);
});

test("Mallory cannot write Mata's sidecar in her own dataset: .mata belongs to the server", async () => {
  for (const cmd of [
    `put ${local} mal-scan\\.mata\\metadata.json`,
    `put ${local} mal-scan\\.mata\\identity.json`,
    "mkdir mal-scan\\.mata\\x",
    "del mal-scan\\.mata\\identity.json",
  ]) {
    const r = asMallory(cmd);
    expect({ cmd, ok: r.ok }).toEqual({ cmd, ok: false });
  }
  expect(statSync(path.join(root, "mal-scan", ".mata", "identity.json")).uid).toBe(srv.uid);
});

test("file names made to look like options reach the rule's command as ./names, so tar runs none of them", async () => {
  // The classic wildcard attack on `tar`: with plain names these two files make tar run `sh shell.sh`.
  const r = asMallory(
    `put ${local} mal-scan\\shell.sh; put ${local} "mal-scan\\--checkpoint=1"; put ${local} "mal-scan\\--checkpoint-action=exec=sh shell.sh"`,
  );
  expect(r).toMatchObject({ ok: true });
  const id = await datasetId("mal-scan");
  await eventually(
    "the rule command ran",
    async () => {
      const r = await fetch(`${server.url}/api/v1/datasets/${id}/jobs`, { headers: basic(mallory) });
      const jobs = ((await r.json()) as { items: { kind: string; state: string; error: string | null }[] }).items;
      const done = jobs.find((j) => j.kind === "command" && (j.state === "done" || j.state === "failed"));
      return done ? done : undefined;
    },
    30_000,
  );
  expect(existsSync(path.join(root, "mal-scan", "pwned"))).toBe(false);
});
