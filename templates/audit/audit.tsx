import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import { AUDIT_ACTIONS, type AuditItem } from "../../src/audit/audit.service.ts";
import { formatTime } from "../datasets/format.ts";

/** The filters as the page was asked for them (echoed into the form, the CSV link and the next-page link). */
export interface AuditQueryEcho {
  dataset?: number;
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  limit: number;
}

/** A value of an entry in a few words: a parent list by paths, a grant list by names, a tag value as is. */
function words(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v === "" ? "(empty)" : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.length ? v.map(words).join(", ") : "(none)";
  const o = v as Record<string, unknown>;
  if (typeof o.path === "string") return o.path;
  return Object.entries(o)
    .map(([k, x]) => `${k}: ${words(x)}`)
    .join("; ");
}

/** Before and after, key by key where both are records of changed values, else as two values. */
function Change(p: { before: unknown; after: unknown }) {
  const rec = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { path?: unknown }).path !== "string";
  if (p.before === null && p.after === null) return null;
  if (rec(p.before) && rec(p.after)) {
    const keys = [...new Set([...Object.keys(p.before), ...Object.keys(p.after)])];
    if (keys.length === 0) return <span class="muted">order only</span>;
    return (
      <ul class="audit-change">
        {keys.map((k) => (
          <li>
            <b>{k}</b>: <del>{words(p.before && (p.before as Record<string, unknown>)[k])}</del> → <ins>{words((p.after as Record<string, unknown>)[k])}</ins>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <span class="audit-change">
      <del>{words(p.before)}</del> → <ins>{words(p.after)}</ins>
    </span>
  );
}

function label(action: string): string {
  return (AUDIT_ACTIONS as Record<string, string>)[action] ?? (action.startsWith("export.") ? `Export written (${action.slice(7)})` : action);
}

function query(q: AuditQueryEcho, extra: Record<string, string | number | undefined> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ dataset: q.dataset, actor: q.actor, action: q.action, from: q.from, to: q.to, ...extra })) {
    if (v !== undefined && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** The audit log: filters, the entries newest first, older ones a page at a time, the same selection as CSV. */
export function AuditPage(p: { query: AuditQueryEcho; items: AuditItem[]; next: number | null; user: Principal | null; csrf?: string }) {
  const q = p.query;
  return (
    <Layout title="Audit log" user={p.user} csrf={p.csrf}>
      <h1>Audit log</h1>
      <p>
        {p.user?.isAdmin
          ? "Every change of metadata, relations and grants, every download and export, every sign-in and refusal."
          : "What happened to the datasets you own (changes, grants, downloads, exports) and your own sign-ins."}{" "}
        Times are UTC.
      </p>
      <form class="audit-filters" method="get" action="/audit">
        <label>
          Dataset id <input type="number" name="dataset" min="1" value={q.dataset ? String(q.dataset) : ""} />
        </label>
        <label>
          Person <input type="text" name="actor" value={q.actor ?? ""} autocomplete="off" />
        </label>
        <label>
          Action{" "}
          <select name="action">
            <option value="">any</option>
            {Object.entries(AUDIT_ACTIONS).map(([k, v]) => (
              <option value={k} selected={q.action === k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          From <input type="date" name="from" value={q.from ?? ""} />
        </label>
        <label>
          To <input type="date" name="to" value={q.to ?? ""} />
        </label>
        <button type="submit">Show</button> <a href={`/api/v1/audit.csv${query(q)}`}>Download as CSV</a>
      </form>
      {p.items.length === 0 ? (
        <p class="notice" data-audit="empty">
          Nothing recorded{q.dataset || q.actor || q.action || q.from || q.to ? " that matches these filters" : ""}.
        </p>
      ) : (
        <table class="jobs audit">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Person</th>
              <th scope="col">What</th>
              <th scope="col">Dataset</th>
              <th scope="col">Detail</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {p.items.map((i) => (
              <tr data-action={i.action}>
                <td>{formatTime(i.at)}</td>
                <td>{i.actor || <span class="muted">(no name)</span>}</td>
                <td>{label(i.action)}</td>
                <td>{i.datasetId ? <a href={`/datasets/${i.datasetId}`}>{i.datasetPath ?? `#${i.datasetId}`}</a> : null}</td>
                <td>
                  {i.target ? <code>{i.target}</code> : null} <Change before={i.before} after={i.after} />
                  {i.detail && typeof i.detail.reason === "string" ? <span class="muted"> ({i.detail.reason})</span> : null}
                </td>
                <td>{i.address ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {p.next !== null ? (
        <p>
          <a href={`/audit${query(q, { before: p.next, limit: q.limit === 100 ? undefined : q.limit })}`} rel="next">
            Older entries
          </a>
        </p>
      ) : null}
    </Layout>
  );
}
