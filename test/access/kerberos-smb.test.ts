// Kerberos on the share from the rendered templates: smbd with the rendered realm and dedicated keytab
// options and the rendered krb5 snippet accepts a user's ticket (no password), and the ACLs Mata
// wrote still decide what that user may open.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { createApp } from "../../src/app.ts";
import { renderAppliance, writeAppliance } from "../../src/access/appliance.service.ts";
import { testContext } from "../support/env.ts";
import { putDataset } from "../support/fixtures.ts";
import { withUser } from "../support/auth.ts";
import { startKdc, type TestKdc } from "../support/kdc.ts";
import { startSmbd, type Smbd } from "../support/smbd.ts";
import { unixUsers } from "./users.ts";

// Not "localhost": Samba clients never use Kerberos for localhost or an IP address.
const HOST = "smb.mata.test";
const people = unixUsers(["own", "vw", "ot"]);
const U = people.user;
const ctx = testContext({ acls: true });
const app = createApp(ctx);
let kdc: TestKdc;
let smbd: Smbd;
let krb5Config = "";

beforeAll(async () => {
  kdc = await startKdc(ctx.dir);
  const out = path.join(ctx.dir, "appliance");
  writeAppliance(out, renderAppliance(ctx.config, { out, hostname: HOST, realm: kdc.realm, kdc: `127.0.0.1:${kdc.port}`, shareName: "data" }));
  krb5Config = path.join(out, "krb5-mata.conf");
  kdc.addService(`cifs/${HOST}`, path.join(out, "cifs.keytab"), { noAuthData: true });
  for (const n of Object.values(U)) kdc.addUser(n, `Krb-${n}-1`);
  smbd = await startSmbd(path.join(ctx.dir, "smb"), path.join(out, "smb-mata.conf"), { env: { KRB5_CONFIG: krb5Config } });
  const id = putDataset(ctx, "scan", { "a.txt": "alpha\n" }, { owner: U.own });
  const res = await app.request(`/api/v1/datasets/${id}/access`, {
    method: "PUT",
    headers: { ...withUser(ctx, U.own!).headers, "Content-Type": "application/json" },
    body: JSON.stringify({ viewers: [U.vw] }),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await smbd?.stop();
  await kdc?.stop();
  ctx.cleanup();
  people.remove();
});

/** A ticket for a user, used with the rendered krb5 snippet (not the KDC's own config). */
const ticket = (who: string) => ({ ...kdc.kinit(U[who]!, `Krb-${U[who]}-1`), KRB5_CONFIG: krb5Config });

test("a ticket opens the share without a password; grants still decide", () => {
  const owner = smbd.kerberosClient("data", HOST, ticket("own"), "get scan\\a.txt /dev/null; put /etc/hostname scan\\k.txt; del scan\\k.txt");
  expect(owner).toMatchObject({ ok: true });
  expect(smbd.kerberosClient("data", HOST, ticket("vw"), "get scan\\a.txt /dev/null").ok).toBe(true);
  const other = ticket("ot");
  expect(smbd.kerberosClient("data", HOST, other, "ls scan\\*").out).toContain("a.txt");
  expect(smbd.kerberosClient("data", HOST, other, "get scan\\a.txt /dev/null").ok).toBe(false);
});

test("without a ticket, Kerberos-only access is refused", () => {
  const r = smbd.kerberosClient("data", HOST, { KRB5_CONFIG: krb5Config, KRB5CCNAME: `FILE:${path.join(ctx.dir, "no-such-ccache")}` }, "ls");
  expect(r.ok).toBe(false);
});
