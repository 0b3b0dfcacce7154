import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { JobView } from "../../src/jobs/jobs.service.ts";

function when(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function etaText(s: number | null): string {
  if (s === null) return "";
  return s < 60 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** The jobs table, refreshed by htmx every few seconds; cancel and retry answer with a fresh table. */
export function JobsTable(p: { jobs: JobView[]; filter: string }) {
  const q = p.filter ? `?state=${encodeURIComponent(p.filter)}` : "";
  return (
    <div id="jobs-table" hx-get={`/jobs/table${q}`} hx-trigger="every 3s" hx-swap="outerHTML">
      {p.jobs.length === 0 ? (
        <p class="muted">No jobs{p.filter ? ` that are ${p.filter}` : ""}.</p>
      ) : (
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Dataset</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">ETA</th>
              <th scope="col">Tries</th>
              <th scope="col">Queued (UTC)</th>
              <th scope="col">Error</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {p.jobs.map((j) => (
              <tr data-job={String(j.id)} data-state={j.state}>
                <td>{j.id}</td>
                <td>{j.kind}</td>
                <td>{j.datasetId === null ? "" : <a href={`/datasets/${j.datasetId}`}>{j.datasetId}</a>}</td>
                <td>{j.state}</td>
                <td>
                  <progress max="1" value={String(j.progress)}></progress> {Math.round(j.progress * 100)}%
                </td>
                <td>{etaText(j.etaSeconds)}</td>
                <td>{j.attempts}</td>
                <td>{when(j.createdAt)}</td>
                <td class="error">{j.error ?? ""}</td>
                <td>
                  {j.state === "queued" || j.state === "running" ? (
                    <button type="button" hx-post={`/jobs/${j.id}/cancel${q}`} hx-target="#jobs-table" hx-swap="outerHTML">
                      Cancel
                    </button>
                  ) : null}
                  {j.state === "failed" || j.state === "cancelled" ? (
                    <button type="button" hx-post={`/jobs/${j.id}/retry${q}`} hx-target="#jobs-table" hx-swap="outerHTML">
                      Retry
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The admin page of background jobs. */
export function JobsPage(p: { jobs: JobView[]; filter: string; user: Principal | null; csrf?: string }) {
  const states = ["", "queued", "running", "failed", "done", "cancelled"];
  return (
    <Layout title="Jobs" user={p.user} csrf={p.csrf}>
      <h1>Background jobs</h1>
      <nav class="filters">
        {states.map((s) => (
          <a href={s ? `/jobs?state=${s}` : "/jobs"} aria-current={s === p.filter ? "page" : undefined}>
            {s || "all"}
          </a>
        ))}{" "}
      </nav>
      <JobsTable jobs={p.jobs} filter={p.filter} />
    </Layout>
  );
}
