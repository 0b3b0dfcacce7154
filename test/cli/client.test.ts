// The client verbs (`mata datasets`, `search`, `tags get|set`, `token create`) against a real `mata serve`
// over HTTP: output, settings from flags, env and file, the 409 retry, and every kind of one-line error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { closedPort, runMata, startLiveServer, type LiveServer } from "../support/live-server.ts";
import { ClientError, mataClient, type MataClient } from "../../src/cli/client/http.ts";
import { setTags } from "../../src/cli/client/tags.ts";
import { parseAssignment } from "../../src/cli/client/tag-edit.ts";
import { formatBytes } from "../../src/cli/client/format.ts";

let live: LiveServer;
let xdg: string;

beforeAll(async () => {
  live = await startLiveServer({
    "scan-001": { "volume.bin": new Uint8Array(8 * 1024 * 1024), "notes.txt": "femur of a sheep" },
    "scan-002": { "a.dat": "hello" },
    "2024": { "x.dat": "x" },
  });
  // The client config file the tests write; an empty XDG dir keeps the host's own file out.
  xdg = path.join(live.dir, "xdg");
  mkdirSync(path.join(xdg, "mata"), { recursive: true });
}, 60_000);

afterAll(async () => {
  await live?.stop();
});

/** `mata ARGS` signed in as the admin through the environment (as scripts usually are). */
function mata(args: string[], env: Record<string, string | undefined> = {}, stdin?: string) {
  return runMata(args, {
    env: { XDG_CONFIG_HOME: xdg, MATA_URL: live.url, MATA_TOKEN: live.admin.token, MATA_USER: undefined, MATA_PASSWORD: undefined, ...env },
    stdin,
  });
}

describe("mata datasets", () => {
  test("prints an aligned table with binary sizes, and the API's JSON with --json", async () => {
    const r = await mata(["datasets"]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\s*ID\s+PATH\s+TITLE\s+OWNER\s+FILES\s+SIZE$/);
    const row = lines.find((l) => l.includes("scan-001"))!;
    expect(row).toMatch(new RegExp(`^\\s*${live.ids["scan-001"]}\\s+scan-001\\s+scan-001\\s+.*\\s2\\s+8\\.0 MiB$`));
    // Every row is as wide as the header up to the size column: the columns line up.
    const sizeAt = lines[0]!.indexOf("SIZE") + "SIZE".length;
    for (const l of lines) expect(l.length).toBe(sizeAt);
    expect(lines.length).toBe(4);

    const j = await mata(["datasets", "--json"]);
    const body = JSON.parse(j.out) as { items: { id: number; path: string; files: { count: number; bytes: number } }[]; total: number };
    expect(body.total).toBe(3);
    expect(body.items.find((d) => d.path === "scan-001")).toMatchObject({ id: live.ids["scan-001"], files: { count: 2, bytes: 8 * 1024 * 1024 + 16 } });
  });

  test("--query narrows and --limit stops early, saying how many there were", async () => {
    const q = JSON.parse((await mata(["datasets", "--json", "--query", "scan-00"])).out) as { items: { path: string }[]; total: number };
    expect(q.items.map((d) => d.path).sort()).toEqual(["scan-001", "scan-002"]);
    const l = await mata(["datasets", "--limit", "1"]);
    expect(l.code).toBe(0);
    expect(l.out.trimEnd().split("\n")).toHaveLength(2);
    expect(l.err).toContain("1 of 3 datasets shown");
    const bad = await mata(["datasets", "--limit", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--limit must be a whole number");
  });

  test("settings: flags over env over the client config file; the default file under XDG_CONFIG_HOME", async () => {
    const file = path.join(xdg, "mata", "client.toml");
    writeFileSync(file, `url = "${live.url}"\ntoken = "${live.admin.token}"\n`);
    chmodSync(file, 0o600);
    try {
      const fromFile = await mata(["datasets", "--json"], { MATA_URL: undefined, MATA_TOKEN: undefined });
      expect(fromFile.code, fromFile.err).toBe(0);
      expect(fromFile.err).toBe("");
      // The environment wins over the file, the flag over the environment.
      const envWins = await mata(["datasets"], { MATA_URL: undefined, MATA_TOKEN: "mata_wrong" });
      expect(envWins.code).toBe(1);
      expect(envWins.err).toContain("the server refused the token");
      const flagWins = await mata(["datasets", "--token", live.admin.token], { MATA_URL: undefined, MATA_TOKEN: "mata_wrong" });
      expect(flagWins.code, flagWins.err).toBe(0);
    } finally {
      writeFileSync(file, "");
    }
    // A named file: url and token from it; a missing one and unknown keys are errors.
    const other = path.join(live.dir, "other.toml");
    writeFileSync(other, `url = "${live.url}/"\ntoken = "${live.user.token}"\n`);
    chmodSync(other, 0o600);
    const named = await mata(["datasets", "--client-config", other], { MATA_URL: undefined, MATA_TOKEN: undefined });
    expect(named.code, named.err).toBe(0);
    const missing = await mata(["datasets", "--client-config", path.join(live.dir, "none.toml")]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("does not exist");
    writeFileSync(other, `url = "${live.url}"\ntokn = "x"\n`);
    const typo = await mata(["datasets", "--client-config", other]);
    expect(typo.code).toBe(1);
    expect(typo.err).toContain('unknown key "tokn"');
  });
});

describe("mata tags", () => {
  test("set by path (trailing slash ignored) creates nested tags; get prints the indented tree", async () => {
    const set = await mata(["tags", "set", "scan-001/", "Scan/Voltage=90", "Species=sheep", "Note=a=b"]);
    expect(set.code, set.err).toBe(0);
    expect(set.err).toContain("3 tags set");
    const get = await mata(["tags", "get", "scan-001"]);
    expect(get.code, get.err).toBe(0);
    expect(get.out).toBe("Scan\n  Voltage = 90\nSpecies = sheep\nNote = a=b\n");
    // An update keeps the order and the other tags; a new nested key goes after its siblings.
    expect((await mata(["tags", "set", String(live.ids["scan-001"]), "Scan/Voltage=120", "Scan/Current=80"])).code).toBe(0);
    const j = JSON.parse((await mata(["tags", "get", String(live.ids["scan-001"]), "--json"])).out);
    expect(j.tags).toEqual([
      {
        key: "Scan",
        value: "",
        children: [
          { key: "Voltage", value: "120", children: [] },
          { key: "Current", value: "80", children: [] },
        ],
      },
      { key: "Species", value: "sheep", children: [] },
      { key: "Note", value: "a=b", children: [] },
    ]);
    expect(j.tagsVersion).toBeGreaterThan(1);
  });

  test("a folder named by digits is reached as ./2024; 2024 alone is an id", async () => {
    expect((await mata(["tags", "set", "./2024", "Year=2024"])).code).toBe(0);
    expect((await mata(["tags", "get", `${live.ids["2024"]}`])).out).toBe("Year = 2024\n");
    const asId = await mata(["tags", "get", "2024"]);
    expect(asId.code).toBe(1);
    expect(asId.err).toBe("mata tags get: No dataset with id 2024\n");
  });

  test("wrong arguments and unknown datasets are one clear line", async () => {
    const emptyKey = await mata(["tags", "set", "scan-002", "Scan//Voltage=1"]);
    expect(emptyKey.code).toBe(2);
    expect(emptyKey.err).toContain("has an empty key");
    const noEq = await mata(["tags", "set", "scan-002", "Voltage"]);
    expect(noEq.code).toBe(2);
    expect(noEq.err).toContain("is not KEY=VALUE");
    const unknown = await mata(["tags", "get", "no/such-folder"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(`mata tags get: no dataset at "no/such-folder" on ${live.url} (see \`mata datasets\` for paths and ids)\n`);
    // The server's own 400 message comes through.
    const bad = await mata(["tags", "set", "scan-002", "Note=bell\u0007"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("contains a control character");
    // --help lists only the verb's own options.
    const help = await mata(["tags", "get", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--json");
    expect(help.out).not.toContain("KEY=VALUE");
    expect(help.out).not.toContain("--label");
  });

  test("set re-reads and re-applies once when someone else changed the tags (409), then gives up", async () => {
    const id = live.ids["scan-002"]!;
    const admin = mataClient(live.url, { token: live.admin.token });
    // Another editor's change lands between our read and our write, `times` times.
    const racing = (times: number): MataClient => ({
      url: admin.url,
      async request<T>(method: string, p: string, body?: unknown): Promise<T> {
        if (method === "PUT" && times-- > 0) {
          const now = await admin.request<{ tags: unknown[] }>("GET", p);
          await admin.request("PUT", p, { tags: [...now.tags, { key: `Other${times}`, value: "x", children: [] }] });
        }
        return admin.request<T>(method, p, body);
      },
    });
    const r = await setTags(racing(1), id, [parseAssignment("Mine=1")]);
    expect(r.tags.map((t) => t.key)).toEqual(["Other0", "Mine"]);
    const e = await setTags(racing(2), id, [parseAssignment("Mine=2")]).catch((err) => err);
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).status).toBe(409);
    expect((e as ClientError).message).toContain("409 twice");
    const after = await admin.request<{ tags: { key: string; value: string }[] }>("GET", `/api/v1/datasets/${id}/tags`);
    expect(after.tags.find((t) => t.key === "Mine")?.value).toBe("1");
  });

  test("an account without edit rights gets a 403 in words", async () => {
    const r = await mata(["tags", "set", "scan-002", "Mine=3"], { MATA_TOKEN: live.user.token });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mata tags set: permission denied: .+\n$/);
  });
});

describe("mata search", () => {
  test("finds datasets by tag, most matches first, as a table and as JSON", async () => {
    let j = { items: [] as { id: number; title: string; matches: number }[], total: 0 };
    // The search index is folded in by a background indexer: wait for the tags set above.
    for (let i = 0; i < 50 && j.items.length === 0; i++) {
      const r = await mata(["search", "Species=sheep", "--json"]);
      expect(r.code, r.err).toBe(0);
      j = JSON.parse(r.out);
      if (j.items.length === 0) await Bun.sleep(200);
    }
    expect(j.items.map((h) => h.id)).toEqual([live.ids["scan-001"]!]);
    expect(j.items[0]).toMatchObject({ title: "scan-001", matches: expect.any(Number) });
    const t = await mata(["search", "Species=sheep"]);
    expect(t.out.split("\n")[0]).toMatch(/^\s*ID\s+MATCHES\s+PATH\s+TITLE$/);
    expect(t.out).toContain("scan-001");
    const none = await mata(["search", "Species=unicorn"]);
    expect(none.code).toBe(0);
    expect(none.out).toBe("");
    expect(none.err).toContain("nothing matches");
    const empty = await mata(["search"]);
    expect(empty.code).toBe(2);
  });
});

describe("mata token create", () => {
  test("signs in with --user and the password on stdin, prints a working secret", async () => {
    const r = await mata(["token", "create", "--user", "admin", "--label", "cron job"], { MATA_TOKEN: undefined }, `${live.admin.password}\n`);
    expect(r.code, r.err).toBe(0);
    const secret = r.out.trim();
    expect(secret).toMatch(/^mata_\S+$/);
    expect((await mata(["datasets", "--json"], { MATA_TOKEN: secret })).code).toBe(0);
    const list = await fetch(`${live.url}/api/v1/tokens`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(((await list.json()) as { items: { label: string }[] }).items.map((t) => t.label)).toContain("cron job");
  });

  test("MATA_USER and MATA_PASSWORD, --json; a wrong password and a missing user are clear", async () => {
    const r = await mata(["token", "create", "--json"], { MATA_TOKEN: undefined, MATA_USER: "bob", MATA_PASSWORD: live.user.password });
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(r.out) as { id: number; label: string; secret: string };
    expect(t.label).toStartWith("mata CLI on ");
    expect(t.secret).toStartWith("mata_");
    const wrong = await mata(["token", "create", "--user", "bob"], { MATA_TOKEN: undefined }, "not the password\n");
    expect(wrong.code).toBe(1);
    expect(wrong.err).toStartWith("mata token create: the server refused the sign-in of bob (");
    const nobody = await mata(["token", "create"], { MATA_TOKEN: undefined });
    expect(nobody.code).toBe(2);
    expect(nobody.err).toContain("needs --user NAME");
    const help = await mata(["token", "create", "--help"]);
    expect(help.out).toContain("--label");
    expect(help.out).not.toContain("--query");
  });
});

describe("connection errors", () => {
  test("a closed port: cannot reach, is `mata serve` running?", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const r = await mata(["datasets", "--url", url]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`mata datasets: cannot reach Mata at ${url}: connection refused; is \`mata serve\` running?\n`);
  });

  test("a server that is not Mata (no JSON)", async () => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<html>hello</html>", { headers: { "Content-Type": "text/html" } }) });
    try {
      const r = await mata(["search", "x", "--url", `http://127.0.0.1:${other.port}`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("does not look like a Mata server");
    } finally {
      other.stop(true);
    }
  });

  test("a wrong token, and no token at all", async () => {
    const wrong = await mata(["datasets"], { MATA_TOKEN: "mata_not-a-real-token" });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toBe(
      "mata datasets: the server refused the token (Unknown or revoked API token); check --token / MATA_TOKEN, or make a new one with `mata token create`\n",
    );
    const none = await mata(["tags", "get", "1"], { MATA_TOKEN: undefined });
    expect(none.code).toBe(1);
    expect(none.err).toContain("the server needs a sign-in: give --token or set MATA_TOKEN");
  });
});

test("formatBytes uses binary units", () => {
  expect(formatBytes(0)).toBe("0 B");
  expect(formatBytes(1023)).toBe("1023 B");
  expect(formatBytes(1024)).toBe("1.0 KiB");
  expect(formatBytes(8 * 1024 * 1024)).toBe("8.0 MiB");
  expect(formatBytes(1024 * 1024 - 1)).toBe("1.0 MiB");
  expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.5 GiB");
});
