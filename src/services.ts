// The one place an instance is put together: the database, the clock, the hooks and every service and cache
// the features keep, so two instances built in one process (tests) share nothing.
import path from "node:path";
import type { Database } from "bun:sqlite";
import { systemClock, type Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { newHooks, type AppContext } from "./context.ts";
import { commitsElsewhere, openDatabase } from "./db/database.ts";
import { secureStateDir } from "./db/state-files.ts";
import { invalidateAccess, newAccessCache, type AccessCache } from "./access/access.cache.ts";
import { newAclQueues, type AclQueues } from "./access/acl.service.ts";
import { newAuthState, type AuthState } from "./auth/auth.runtime.ts";
import { Jobs } from "./jobs/index.ts";
import { commandJob } from "./jobs/command.job.ts";
import type { JobKind } from "./jobs/job.types.ts";
import { PreviewStore } from "./preview/preview.store.ts";
import { previewJob } from "./preview/preview.service.ts";
import { newCloudSummaries, type CloudSummaries } from "./search/cloud.service.ts";
import { OwnerNames } from "./sync/fs.ts";
import { renderDatasetPage } from "./datasets/dataset-page.tsx";
import type { DatasetPageRenderer } from "./web/plain-form.ts";
import { attachMetadataMirror } from "./mirror/metadata-mirror.ts";
import { localPrivileged, type Privileged } from "./privilege/privileged.ts";
import { registerShareRoot } from "./platform/share-root.ts";
import { fixityJob } from "./fixity/fixity.job.ts";
import { extractJob } from "./extract/extract.job.ts";
import { pluginJob } from "./extract/plugin.job.ts";
import { exportJob } from "./export/export.job.ts";
import { Metrics } from "./metrics/metrics.ts";
import { SyncStatus } from "./sync/sync.status.ts";
import type { Lifecycle } from "./health/health.service.ts";
import { newAuditState, type AuditState } from "./audit/audit.service.ts";

/** The per-instance state of every feature, built once with the context instead of kept in module-level maps. */
export interface Services {
  /** The sign-in backend and Kerberos acceptor (opened on first use, or by `serve` at start) and sweep times. */
  auth: AuthState;
  /** Who may do what on each dataset, for the enforcement point's hot path. */
  accessCache: AccessCache;
  /** Each dataset's chain of ACL work on the share, so two applies never interleave. */
  aclQueues: AclQueues;
  /** The job queue with the kinds every feature registered. */
  jobs: Jobs;
  /** The preview statements and the tile route's read caches. */
  preview: PreviewStore;
  /** The tag cloud's largest counts and sizes, reused while nothing was written. */
  cloudSummaries: CloudSummaries;
  /** Unix account names of folder owners. */
  owners: OwnerNames;
  /** The whole dataset page, which other features' panels answer with when a plain form post is refused. */
  datasetPage: DatasetPageRenderer;
  /** What needs root: run here, or by the root helper of a privilege-separated server. */
  privileged: Privileged;
  /** Request, reconcile and watcher counters for `/metrics`. */
  metrics: Metrics;
  /** The watcher's state and the last reconcile's outcome, for health. */
  sync: SyncStatus;
  /** Whether `serve` runs this instance and whether it is stopping (health answers 503 from the first moment). */
  lifecycle: Lifecycle;
  /** When repeated sign-ins were last written to the audit log. */
  audit: AuditState;
}

/** What a context can be built with besides its configuration (tests pass a fake clock). */
export interface ContextOptions {
  clock?: Clock;
  /** The root helper's client, in the unprivileged server of a separated `serve`. */
  privileged?: Privileged;
}

/** The job kinds of every feature, registered on the queue of each new context. */
export function featureJobKinds(): JobKind[] {
  return [commandJob(), previewJob(), fixityJob(), extractJob(), pluginJob(), exportJob()];
}

/** Builds a context over an open database, with fresh services; `rebuild` uses it for its temporary database. */
export function contextOver(config: Config, db: Database, opts: ContextOptions = {}): AppContext {
  const ctx = { config, db, clock: opts.clock ?? systemClock, hooks: newHooks() } as AppContext;
  // Sidecars of this root's datasets are opened beneath it from now on (src/platform/share-root.ts).
  registerShareRoot(config.root);
  // The services hold the context they serve (the queue hands it to job handlers), so they are added second.
  const services: Services = {
    auth: newAuthState(),
    accessCache: newAccessCache(),
    aclQueues: newAclQueues(),
    jobs: new Jobs(ctx, featureJobKinds()),
    preview: new PreviewStore(db, config.previewMemory),
    cloudSummaries: newCloudSummaries(),
    owners: new OwnerNames(),
    datasetPage: renderDatasetPage,
    privileged: opts.privileged ?? localPrivileged(config),
    metrics: new Metrics(),
    sync: new SyncStatus(),
    lifecycle: { startedAt: null, stopping: false, webThreads: 0 },
    audit: newAuditState(),
  };
  Object.assign(ctx, { services });
  attachMetadataMirror(ctx);
  return ctx;
}

/** Opens the state dir and its database and builds every service: what `serve`, `scan`, `user` and tests start from. */
export function createContext(config: Config, opts: ContextOptions = {}): AppContext {
  secureStateDir(config.state);
  return contextOver(config, openDatabase(path.join(config.state, "mata.db")), opts);
}

/**
 * A check each request runs first: when another connection committed to the database (a web thread, a `mata user`
 * command, the preview child), the read caches (sessions, tokens, access, preview rows) are dropped, so nothing another
 * thread or process changed is answered from memory. About a microsecond when nothing changed.
 */
export function readCacheRefresher(ctx: AppContext): () => void {
  const committed = commitsElsewhere(ctx.db);
  return () => {
    if (!committed()) return;
    ctx.services.auth.sessions.clear();
    ctx.services.auth.tokens.clear();
    invalidateAccess(ctx);
    ctx.services.preview.forgetRows();
  };
}
