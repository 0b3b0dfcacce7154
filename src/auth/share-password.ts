import { existsSync } from "node:fs";
import { AppError } from "../errors.ts";
import { checkNewPassword } from "./backend.ts";
import { run, UNIX_NAME } from "./system.ts";

const DEFAULT_SMB_CONF = "/etc/samba/smb.conf";

/**
 * Sets a system user's password for both doors at once: the unix password (PAM, web) with chpasswd and
 * the NT hash in Samba's passdb with smbpasswd (SMB2 cannot use the unix hash). The Samba step runs
 * when `smbConf` is given or the system smb.conf exists. Secrets go through stdin only.
 */
export async function setSharePassword(user: string, password: string, smbConf?: string): Promise<void> {
  if (!UNIX_NAME.test(user)) throw new AppError(400, `"${user}" is not a valid unix user name`);
  const problem = checkNewPassword(password);
  if (problem) throw new AppError(400, problem);
  const unix = await run(["chpasswd"], `${user}:${password}\n`);
  if (unix.code !== 0) throw new AppError(500, `Changing the unix password of ${user} failed: ${unix.stderr.trim() || `chpasswd exited ${unix.code}`}`);
  const conf = smbConf ?? (existsSync(DEFAULT_SMB_CONF) ? DEFAULT_SMB_CONF : undefined);
  if (!conf) return;
  const smb = await run(["smbpasswd", "-c", conf, "-s", "-a", user], `${password}\n${password}\n`);
  if (smb.code !== 0) {
    throw new AppError(500, `The unix password of ${user} changed, but the Samba password did not: ${smb.stderr.trim() || `smbpasswd exited ${smb.code}`}`);
  }
}
