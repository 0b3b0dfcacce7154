// `mata doctor`: an admin's self-check of an installation, also the build test's proof that sharp works.
import type { Config } from "../config.ts";
import { VERSION } from "../version.ts";
import {
  checkInotify,
  checkPam,
  checkPrivilege,
  checkRoot,
  checkSetfacl,
  checkSharp,
  checkSmbd,
  checkSqlite,
  checkStateDir,
  type CheckResult,
} from "./checks.ts";

/** The whole report; `ok` is false when any check failed (warnings do not count). */
export interface DoctorReport {
  ok: boolean;
  version: string;
  executable: string;
  compiled: boolean;
  checks: CheckResult[];
}

/** Runs every check; state is checked before SQLite because SQLite needs a writable state dir. */
export async function runDoctor(config: Config, opts: { sharpTimeoutMs?: number } = {}): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  checks.push(await checkSharp(opts.sharpTimeoutMs));
  const state = checkStateDir(config.state);
  checks.push(state);
  checks.push(state.status === "ok" ? checkSqlite(config.state) : { name: "sqlite", status: "fail", detail: "not tried: the state dir is not writable" });
  checks.push(checkRoot(config.root));
  checks.push(checkInotify());
  checks.push(checkSetfacl(config.acls));
  checks.push(checkSmbd());
  checks.push(await checkPam(config.auth === "pam"));
  checks.push(checkPrivilege(config.user));
  return {
    ok: checks.every((c) => c.status !== "fail"),
    version: VERSION,
    executable: process.execPath,
    compiled: Bun.main.startsWith("/$bunfs/"),
    checks,
  };
}

/** The report as aligned text lines for a terminal. */
export function formatReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = r.checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = r.checks.filter((c) => c.status === "fail").length;
  const warned = r.checks.filter((c) => c.status === "warn").length;
  lines.push(
    `mata ${r.version} (${r.compiled ? "executable" : "from source"}): ${failed ? `${failed} failed` : "all essential checks passed"}${warned ? `, ${warned} warnings` : ""}`,
  );
  return lines.join("\n");
}
