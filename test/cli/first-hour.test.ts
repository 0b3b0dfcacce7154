// What a new admin meets on the command line: one clear line for an unexpected error (the stack only with
// --debug), each command's --help listing only its own options, and logs that suit where they go.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { COMMANDS } from "../../src/cli/commands.ts";
import type { Command } from "../../src/cli/command.ts";
import { textLine } from "../../src/log.ts";
import { openDatabase } from "../../src/db/database.ts";
import { tempDir } from "../support/env.ts";

const repo = path.join(import.meta.dir, "../..");
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const state = path.join(tmp.dir, "state");
mkdirSync(state);
openDatabase(path.join(state, "mata.db")).close();

function mata(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args], { cwd: repo, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

// A path of over 4,096 bytes: the kernel refuses it, which no command expects.
const tooLong = path.join(tmp.dir, ...Array.from({ length: 20 }, () => "e".repeat(250)), "b.db");

describe("an unexpected error", () => {
  test("is one line naming what failed, shortened, with no stack and no source", () => {
    const r = mata(["backup", tooLong, "--state", state]);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("mata backup: ");
    expect(lines[0]).toContain("characters)");
    expect(lines[0]).toEndWith("(run again with --debug for details)");
    expect(lines[0]!.length).toBeLessThan(600);
  });

  test("with --debug, the stack goes to the log", () => {
    const r = mata(["--debug", "backup", tooLong, "--state", state], { MATA_LOG_FORMAT: "json" });
    expect(r.code).toBe(1);
    const logged = r.err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    expect(logged.find((l) => l.msg === "unexpected error")?.stack).toContain("at ");
    expect(r.err).toContain("mata backup: ");
  });
});

describe("per-command help", () => {
  const all = (c: Command): Command[] => [c, ...(c.subcommands ?? []).flatMap(all)];
  // A command with verbs only names them; each verb lists its options.
  for (const cmd of COMMANDS.flatMap(all).filter((c) => !c.subcommands)) {
    test(`mata ${cmd.name} --help lists exactly its own options`, () => {
      const r = mata([...cmd.name.split(" "), "--help"]);
      expect(r.code).toBe(0);
      const listed = new Set([...r.out.matchAll(/(?:^|[\s[|(])--([a-z][a-z-]*)/g)].map((m) => m[1]!));
      const own = new Set(Object.keys(cmd.options ?? {}));
      expect([...listed].filter((o) => !own.has(o) && o !== "help")).toEqual([]);
      expect([...own].filter((o) => !listed.has(o))).toEqual([]);
    });
  }

  test("scan and user no longer offer --listen or --auth they never use", () => {
    expect(mata(["scan", "--help"]).out).not.toContain("--listen");
    expect(mata(["scan", "--help"]).out).not.toContain("--auth");
    expect(mata(["user", "--help"]).out).not.toContain("--listen");
    const r = mata(["scan", "--listen", "127.0.0.1:1"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--listen");
  });
});

describe("log format", () => {
  function serveFirstLines(args: string[], viaTerminal: boolean): Promise<string> {
    const root = path.join(tmp.dir, `root-${args.join("")}-${viaTerminal}`);
    mkdirSync(root, { recursive: true });
    const cmd = [process.execPath, "src/main.ts", ...args, "serve", "--root", root, "--state", `${root}-state`, "--listen", "127.0.0.1:0"];
    // `script` gives the server a terminal of its own; its output then arrives on our stdout.
    const argv = viaTerminal ? ["script", "-qfec", cmd.map((a) => `'${a}'`).join(" "), "/dev/null"] : cmd;
    const p = Bun.spawn(argv, { cwd: repo, stdout: "pipe", stderr: "pipe", env: { ...process.env, MATA_LOG_FORMAT: "" } });
    const read = async (s: ReadableStream<Uint8Array>) => {
      const reader = s.getReader();
      let text = "";
      while (!text.includes("serving")) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return text;
    };
    return Promise.race([read(p.stdout), read(p.stderr)]).finally(() => {
      p.kill();
      if (viaTerminal) Bun.spawnSync(["pkill", "-f", `${root}-state`]);
    });
  }

  test("JSON lines when stderr is not a terminal", async () => {
    const out = await serveFirstLines([], false);
    const line = out.split("\n").find((l) => l.includes("serving"))!;
    expect(JSON.parse(line)).toMatchObject({ level: "info" });
  }, 30_000);

  test("readable lines on a terminal, and JSON there with --log json", async () => {
    const text = await serveFirstLines([], true);
    const line = text.split(/\r?\n/).find((l) => l.includes("serving"))!;
    expect(line).toMatch(/^\d\d:\d\d:\d\d info  /);
    const json = await serveFirstLines(["--log", "json"], true);
    expect(
      json
        .split(/\r?\n/)
        .find((l) => l.includes("serving"))!
        .trim(),
    ).toStartWith("{");
  }, 60_000);

  test("a text line: time, level, message, key=value fields, quoted when needed", () => {
    expect(textLine(new Date("2026-01-02T03:04:05Z"), "warn", "slow", { path: "a b", n: 3, ok: "yes" })).toBe('03:04:05 warn  slow  path="a b" n=3 ok=yes');
  });
});
