import { MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH } from "../../src/tags/tag-limits.ts";
import { displayTitle } from "./format.ts";
import { CsrfField } from "../web/csrf-field.tsx";

/** The title and description as shown, with the button that turns them into a form. */
export function DescribeView(p: {
  id: number;
  path: string;
  title: string;
  description: string;
  version: number;
  notice?: string;
  focus?: boolean;
  canEdit?: boolean;
}) {
  return (
    <section id="describe" class="describe" data-version={String(p.version)}>
      <h1 class="dataset-title">{displayTitle(p)}</h1>
      <p class="dataset-path muted">{p.path}</p>
      {p.notice ? (
        <p class="notice" role="status">
          {p.notice}
        </p>
      ) : null}
      <div class="description">{p.description ? p.description : <span class="muted">No description yet.</span>}</div>
      {p.canEdit === false ? null : (
        <>
          <button type="button" class="needs-js" hx-get={`/datasets/${p.id}/describe/edit`} hx-target="#describe" hx-swap="outerHTML" autofocus={p.focus}>
            Edit title and description
          </button>
          <noscript>
            <a class="button" href={`/datasets/${p.id}?edit=describe#describe`}>
              Edit title and description
            </a>
          </noscript>
        </>
      )}
    </section>
  );
}

/** The inline form; after a refusal it keeps the person's text and shows the current values beside it. */
export function DescribeForm(p: {
  id: number;
  path: string;
  title: string;
  description: string;
  version: number;
  error?: string;
  current?: { title: string; description: string; version: number };
  csrf?: string;
}) {
  // htmx sends PATCH; without JavaScript the browser posts the same fields to the POST twin of the route.
  return (
    <form
      id="describe"
      class="describe describe-form"
      method="post"
      action={`/datasets/${p.id}/describe`}
      hx-patch={`/datasets/${p.id}/describe`}
      hx-target="this"
      hx-swap="outerHTML"
    >
      <CsrfField token={p.csrf} />
      {p.error ? (
        <div class="error" role="alert">
          <p>{p.error}</p>
          {p.current ? (
            <dl class="current-values">
              <dt>Current title</dt>
              <dd>{p.current.title || <span class="muted">(empty)</span>}</dd>
              <dt>Current description</dt>
              <dd class="description">{p.current.description || <span class="muted">(empty)</span>}</dd>
            </dl>
          ) : null}
          {p.current ? <p>Your text is still below. Saving now replaces the current values shown here.</p> : null}
        </div>
      ) : null}
      <input type="hidden" name="version" value={String(p.current?.version ?? p.version)} />
      <label class="field">
        <span>Title</span>
        <input name="title" value={p.title} maxlength={MAX_TITLE_LENGTH} placeholder={p.path} autofocus />
      </label>
      <label class="field">
        <span>Description</span>
        <textarea name="description" rows={6} maxlength={MAX_DESCRIPTION_LENGTH}>
          {p.description}
        </textarea>
      </label>
      <span class="form-buttons">
        <button type="submit" class="primary">
          Save
        </button>{" "}
        <button type="button" class="needs-js" hx-get={`/datasets/${p.id}/describe`} hx-target="#describe" hx-swap="outerHTML">
          Cancel
        </button>
        <noscript>
          <a class="button" href={`/datasets/${p.id}#describe`}>
            Cancel
          </a>
        </noscript>
      </span>
    </form>
  );
}
