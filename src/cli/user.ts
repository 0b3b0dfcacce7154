import { configFlags, UsageError, type Command } from "./command.ts";
import { loadConfig } from "../config.ts";
import { createContext } from "../services.ts";
import { AppError } from "../errors.ts";
import { accountsRepo } from "../auth/auth.repo.ts";
import { checkNewPassword } from "../auth/backend.ts";
import { hashPassword } from "../auth/password.ts";
import { setSharePassword } from "../auth/share-password.ts";
import { endAllSessions } from "../auth/session.service.ts";
import { readLineFromStdin } from "./stdin.ts";

const FLAGS = configFlags("state", "auth");

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

/** `mata user`: manage the built-in account store, or set a PAM user's unix and Samba password. */
export const userCommand: Command = {
  name: "user",
  summary: "Manage accounts: user add NAME [--admin] | user passwd NAME | user list (password on stdin)",
  usage: `mata user add NAME [--admin] | mata user passwd NAME | mata user list [--json]  [options]
  add NAME          create a built-in account (auth local); the password is read from stdin
  passwd NAME       set a new password from stdin (auth pam: the unix and the Samba password together)
  list              list the built-in accounts
  --admin           the new account administers Mata
  --json            list as JSON
  --smb-conf FILE   (passwd, auth pam) the smb.conf whose passdb gets the NT hash, default /etc/samba/smb.conf
${FLAGS.usage}`,
  options: { ...FLAGS.options, admin: { type: "boolean" }, json: { type: "boolean" }, "smb-conf": { type: "string" } },
  async run({ values, positionals }) {
    const [action, name, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const config = loadConfig(values as Record<string, string>);
    if (action === "list") {
      if (name) throw new UsageError("user list takes no name");
      const ctx = createContext(config);
      const rows = accountsRepo(ctx.db)
        .list()
        .map((r) => ({ name: r.name, admin: r.is_admin === 1, disabled: r.disabled === 1, createdAt: r.created_at }));
      ctx.db.close();
      if (values.json) console.log(JSON.stringify(rows));
      else for (const r of rows) console.log(`${r.name}${r.admin ? "  (admin)" : ""}${r.disabled ? "  (disabled)" : ""}`);
      return 0;
    }
    if (action !== "add" && action !== "passwd") throw new UsageError(`unknown action ${JSON.stringify(action ?? "")}: use add, passwd or list`);
    if (!name) throw new UsageError(`user ${action} needs an account NAME`);
    if (values.admin && action !== "add") throw new UsageError("--admin only goes with user add");
    if (!NAME.test(name)) throw new AppError(400, `"${name}" is not a valid account name (letters, digits, _ . @ -, at most 64)`);
    if (action === "add" && config.auth === "pam") {
      throw new AppError(400, "with auth pam, accounts are system users: create them with useradd, then set the password with `mata user passwd NAME`");
    }
    const password = await readLineFromStdin();
    const problem = checkNewPassword(password);
    if (problem) throw new AppError(400, `${problem} (read from the first line of stdin)`);
    if (config.auth === "pam") {
      await setSharePassword(name, password, values["smb-conf"] as string | undefined);
      console.log(`mata: password of system user ${name} changed (unix and Samba)`);
      return 0;
    }
    const ctx = createContext(config);
    try {
      const accounts = accountsRepo(ctx.db);
      const hash = await hashPassword(password);
      if (action === "add") {
        if (accounts.get(name)) throw new AppError(409, `account ${name} exists; use \`mata user passwd ${name}\``);
        accounts.add(name, hash, Boolean(values.admin), ctx.clock.now());
        console.log(`mata: account ${name} added${values.admin ? " (admin)" : ""}`);
      } else {
        if (!accounts.setPasswordHash(name, hash)) throw new AppError(404, `no account ${name}; add it with \`mata user add ${name}\``);
        endAllSessions(ctx, name);
        console.log(`mata: password of ${name} changed; its sessions were ended`);
      }
      return 0;
    } finally {
      ctx.db.close();
    }
  },
};
