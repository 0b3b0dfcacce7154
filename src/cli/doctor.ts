import { configFlags, type Command } from "./command.ts";
import { loadConfig } from "../config.ts";
import { formatReport, runDoctor } from "../doctor/doctor.service.ts";

const FLAGS = configFlags("root", "state", "auth");

/** `mata doctor`: tells an admin whether this installation can work (exit 1 when an essential check fails). */
export const doctorCommand: Command = {
  name: "doctor",
  summary: "Check the installation: sharp in a worker, state dir and SQLite WAL, root, setfacl, smbd, PAM",
  usage: `mata doctor [--json] [options]\n  --json            print the report as JSON\n${FLAGS.usage}`,
  options: { ...FLAGS.options, json: { type: "boolean" } },
  async run({ values }) {
    const { json, ...flags } = values;
    const report = await runDoctor(loadConfig(flags as Record<string, string>));
    console.log(json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.ok ? 0 : 1;
  },
};
