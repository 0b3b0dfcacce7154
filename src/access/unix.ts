// Unix account lookups through NSS (`getent`), so LDAP/sssd users resolve the same way Samba sees them.

/** A user or group name safe to hand to system tools: what useradd/groupadd accept, never an option. */
export const UNIX_NAME = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/** The first uid (and gid) of ordinary people's accounts; system accounts below it are not offered. */
const FIRST_ID = 1000;
const LAST_ID = 60000;

async function getent(db: "passwd" | "group", keys: string[]): Promise<string[][]> {
  const proc = Bun.spawn(["getent", db, ...keys], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(":"));
}

const TTL_MS = 60_000;
const known = { passwd: new Map<string, { id: number; at: number }>(), group: new Map<string, { id: number; at: number }>() };

/**
 * Ids of names through NSS; names found are remembered for a minute (a reconcile asks for the same
 * owners and grantees over and over), names not found are asked again every time.
 */
async function idsOf(db: "passwd" | "group", names: string[]): Promise<Map<string, number>> {
  const now = Date.now();
  const ids = new Map<string, number>();
  const ask: string[] = [];
  for (const n of new Set(names)) {
    if (!UNIX_NAME.test(n)) continue;
    const hit = known[db].get(n);
    if (hit && now - hit.at < TTL_MS) ids.set(n, hit.id);
    else ask.push(n);
  }
  if (ask.length === 0) return ids;
  for (const f of await getent(db, ask)) {
    if (!f[0] || !/^\d+$/.test(f[2] ?? "")) continue;
    ids.set(f[0], Number(f[2]));
    known[db].set(f[0], { id: Number(f[2]), at: now });
  }
  return ids;
}

/** Uids of the given user names; names the system does not know are left out. */
export const userIds = (names: string[]) => idsOf("passwd", names);

/** Gids of the given group names; names the system does not know are left out. */
export const groupIds = (names: string[]) => idsOf("group", names);

/** Names of the given gids through NSS; gids the system does not know are left out. */
export async function groupNames(gids: number[]): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  if (gids.length === 0) return names;
  for (const f of await getent("group", [...new Set(gids)].map(String))) if (f[0] && /^\d+$/.test(f[2] ?? "")) names.set(Number(f[2]), f[0]);
  return names;
}

/** Ordinary (non-system) unix users and groups, for the sharing panel's picker. */
export async function listPeople(): Promise<{ users: string[]; groups: string[] }> {
  const people = (rows: string[][]) =>
    rows
      .filter((f) => f[0] && UNIX_NAME.test(f[0]) && Number(f[2]) >= FIRST_ID && Number(f[2]) < LAST_ID)
      .map((f) => f[0]!)
      .sort();
  const [pw, gr] = await Promise.all([getent("passwd", []), getent("group", [])]);
  return { users: people(pw), groups: people(gr) };
}
