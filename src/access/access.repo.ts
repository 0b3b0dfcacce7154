import type { Database } from "bun:sqlite";

/** The part of a dataset row permissions depend on. */
export interface AccessDatasetRow {
  id: number;
  uid: string;
  path: string;
  owner: string | null;
  owner_fixed: number;
  state: "present" | "missing";
}

/** One grant: principal is "user:NAME" or "group:NAME". */
export interface GrantRow {
  principal: string;
  role: "viewer" | "editor";
}

/** What the last full ACL apply left on a dataset's folder tree. */
export interface AclStateRow {
  dataset_id: number;
  spec_hash: string;
  max_ctime_ms: number;
  applied_at: number;
  entries: number;
  error: string | null;
}

/** Reads and writes grants, owner reassignment and the ACL-applied state; all access SQL lives here. */
export function accessRepo(db: Database) {
  const dataset = db.query<AccessDatasetRow, [number]>("SELECT id, uid, path, owner, owner_fixed, state FROM datasets WHERE id = ?");
  const grants = db.query<GrantRow, [number]>("SELECT principal, role FROM grants WHERE dataset_id = ? ORDER BY role DESC, principal");
  const deleteGrants = db.query("DELETE FROM grants WHERE dataset_id = ?");
  const insertGrant = db.query("INSERT INTO grants (dataset_id, principal, role) VALUES (?, ?, ?)");
  const setOwner = db.query("UPDATE datasets SET owner = ?, owner_fixed = 1, updated_at = ? WHERE id = ?");
  const account = db.query<{ name: string }, [string]>("SELECT name FROM accounts WHERE name = ? AND disabled = 0");
  const accounts = db.query<{ name: string }, []>("SELECT name FROM accounts WHERE disabled = 0 ORDER BY name");
  const aclState = db.query<AclStateRow, [number]>("SELECT * FROM acl_state WHERE dataset_id = ?");
  const putAclState = db.query(
    `INSERT INTO acl_state (dataset_id, spec_hash, max_ctime_ms, applied_at, entries, error) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (dataset_id) DO UPDATE SET spec_hash = excluded.spec_hash, max_ctime_ms = excluded.max_ctime_ms,
       applied_at = excluded.applied_at, entries = excluded.entries, error = excluded.error`,
  );
  const setAclError = db.query("UPDATE acl_state SET error = ? WHERE dataset_id = ?");
  const jobDataset = db.query<{ dataset_id: number | null }, [number]>("SELECT dataset_id FROM jobs WHERE id = ?");
  const presentIds = db.query<{ id: number }, []>("SELECT id FROM datasets WHERE state = 'present' ORDER BY id");

  return {
    dataset: (id: number) => dataset.get(id),
    grants: (id: number) => grants.all(id),

    /** Replaces every grant of a dataset at once, so readers never see half a change. */
    replaceGrants(id: number, rows: GrantRow[]): void {
      db.transaction(() => {
        deleteGrants.run(id);
        for (const r of rows) insertGrant.run(id, r.principal, r.role);
      }).immediate();
    },

    /** An admin's reassignment; owner_fixed stops the sync engine from taking the folder's unix owner again. */
    reassignOwner: (id: number, owner: string, at: number) => setOwner.run(owner, at, id),
    accountExists: (name: string) => account.get(name) !== null,
    accountNames: () => accounts.all().map((r) => r.name),
    aclState: (id: number) => aclState.get(id),
    saveAclState: (s: AclStateRow) => putAclState.run(s.dataset_id, s.spec_hash, s.max_ctime_ms, s.applied_at, s.entries, s.error),
    setAclError: (id: number, error: string | null) => setAclError.run(error, id),
    presentDatasetIds: () => presentIds.all().map((r) => r.id),
    /** The dataset a background job works for (none for jobs of the whole share). */
    jobDatasetId: (jobId: number) => jobDataset.get(jobId)?.dataset_id ?? undefined,
  };
}
