import type { RelativeRow } from "../../src/relations/relations.repo.ts";
import type { Relatives } from "../../src/relations/relations.service.ts";
import { displayTitle } from "./format.ts";
import { CsrfField } from "../web/csrf-field.tsx";

function RelList(p: { rows: RelativeRow[]; empty: string; removable?: { datasetId: number; csrf?: string } }) {
  if (!p.rows.length) return <p class="muted">{p.empty}</p>;
  return (
    <ul class="relatives">
      {p.rows.map((r) => (
        <li>
          <a href={`/datasets/${r.id}`}>{displayTitle(r)}</a> <span class="muted path">{r.path}</span>
          {r.state === "missing" ? <span class="state-missing"> (missing)</span> : null}
          {p.removable ? (
            <>
              {" "}
              <form class="inline-form" method="post" action={`/datasets/${p.removable.datasetId}/parents/remove`}>
                <CsrfField token={p.removable.csrf} />
                <input type="hidden" name="parent" value={String(r.id)} />
                <button
                  type="submit"
                  class="tag-op"
                  hx-post={`/datasets/${p.removable.datasetId}/parents/remove`}
                  hx-vals={JSON.stringify({ parent: String(r.id) })}
                  hx-target="#relations-panel"
                  hx-swap="outerHTML"
                  aria-label={`Remove parent ${displayTitle(r)}`}
                >
                  Remove
                </button>
              </form>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** Parents (editable with a search-as-you-type picker), children and siblings of a dataset. */
export function RelationsPanel(p: {
  datasetId: number;
  relatives: Relatives;
  error?: string;
  notice?: string;
  focus?: boolean;
  canEdit?: boolean;
  /** The session's CSRF token, posted by the forms when they are sent without JavaScript. */
  csrf?: string;
}) {
  const r = p.relatives;
  return (
    <section id="relations-panel" class="panel relations-panel" aria-labelledby="relations-heading">
      <h2 id="relations-heading">Relatives</h2>
      {p.error ? (
        <div class="error" role="alert">
          {p.error}
        </div>
      ) : null}
      {p.notice ? (
        <p class="notice" role="status">
          {p.notice}
        </p>
      ) : null}
      <h3>Derived from (parents)</h3>
      <RelList rows={r.parents} empty="No parents: an original scan." removable={p.canEdit === false ? undefined : { datasetId: p.datasetId, csrf: p.csrf }} />
      {p.canEdit === false ? null : (
        <form
          class="parent-picker"
          method="post"
          action={`/datasets/${p.datasetId}/parents/add`}
          hx-post={`/datasets/${p.datasetId}/parents/add`}
          hx-target="#relations-panel"
          hx-swap="outerHTML"
        >
          <CsrfField token={p.csrf} />
          <label class="suggest">
            <span>Add a parent</span>
            <input
              id="parent-search"
              name="q"
              autocomplete="off"
              placeholder="Type a title or path"
              title="A title or path; without JavaScript, one that names a single dataset"
              data-suggest="datasets"
              data-exclude={String(p.datasetId)}
              data-pick-into="parent-id"
              autofocus={p.focus}
            />
          </label>
          <input type="hidden" name="parent" id="parent-id" value="" />
          <button type="submit">Add parent</button>
        </form>
      )}
      <h3>Derived from this (children)</h3>
      <RelList rows={r.children} empty="No datasets derived from this one." />
      <h3>Siblings (same parent)</h3>
      <RelList rows={r.siblings} empty="No siblings." />
    </section>
  );
}
