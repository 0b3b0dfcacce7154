import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { JobView } from "../../src/jobs/jobs.service.ts";
import type { Flash } from "../../src/web/plain-form.ts";
import { CsrfField } from "../web/csrf-field.tsx";

function when(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function etaText(s: number | null): string {
  if (s === null) return "";
  return s < 60 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** Cancel or retry: a form of its own, so it works as a plain post too (htmx cancels that submit and posts itself). */
function JobButton(p: { id: number; action: "cancel" | "retry"; q: string; csrf?: string }) {
  const url = `/jobs/${p.id}/${p.action}${p.q}`;
  return (
    <form class="inline-form" method="post" action={url}>
      <CsrfField token={p.csrf} />
      <button type="submit" hx-post={url} hx-target="#jobs-table" hx-swap="outerHTML" aria-label={`${p.action === "cancel" ? "Cancel" : "Retry"} job ${p.id}`}>
        {p.action === "cancel" ? "Cancel" : "Retry"}
      </button>
    </form>
  );
}

/** The jobs table, refreshed by htmx every few seconds; cancel and retry answer with a fresh table. */
export function JobsTable(p: { jobs: JobView[]; filter: string; csrf?: string }) {
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
                  {j.state === "queued" || j.state === "running" ? <JobButton id={j.id} action="cancel" q={q} csrf={p.csrf} /> : null}
                  {j.state === "failed" || j.state === "cancelled" ? <JobButton id={j.id} action="retry" q={q} csrf={p.csrf} /> : null}
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
export function JobsPage(p: { jobs: JobView[]; filter: string; user: Principal | null; csrf?: string; flash?: Flash }) {
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
      {p.flash ? (
        <p class={`${p.flash.kind === "error" ? "error" : "notice"} page-flash`} role={p.flash.kind === "error" ? "alert" : "status"}>
          {p.flash.text}
        </p>
      ) : null}
      <JobsTable jobs={p.jobs} filter={p.filter} csrf={p.csrf} />
    </Layout>
  );
}
