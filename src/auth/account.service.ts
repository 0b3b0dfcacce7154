import type { AppContext, Principal } from "../context.ts";
import { badRequest } from "../errors.ts";
import { authRuntime } from "./auth.runtime.ts";
import { checkNewPassword } from "./backend.ts";
import { signIn } from "./login.service.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { createSession, endAllSessions, type NewSession } from "./session.service.ts";

/**
 * Changes the signed-in user's own password after checking the current one (throttled like a sign-in).
 * For PAM accounts this sets the unix and the Samba password together. Every session of the account ends
 * and a new one is returned for the browser that made the change.
 */
export async function changeOwnPassword(
  ctx: AppContext,
  user: Principal,
  current: string,
  password: string,
  confirm: string,
  addr: string,
): Promise<NewSession> {
  if (password !== confirm) throw badRequest("The two new passwords differ");
  const problem = checkNewPassword(password);
  if (problem) throw badRequest(problem);
  const principal = await signIn(ctx, user.name, current, addr, "password");
  await authRuntime(ctx).backend.changePassword(principal.name, password);
  recordAudit(ctx, { action: "password.change", actor: principal.name, address: addr });
  endAllSessions(ctx, principal.name);
  return createSession(ctx, principal, "password");
}
