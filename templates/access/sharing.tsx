import type { AccessView } from "../../src/access/access.service.ts";
import { CsrfField } from "../web/csrf-field.tsx";

/**
 * The sharing panel of a dataset page (an htmx partial, GET/POST /datasets/:id/sharing): everyone
 * sees the owner, people with access see who else has it, the owner and admins add and remove people.
 */
export function SharingPanel(props: {
  view: AccessView;
  people?: { users: string[]; groups: string[] };
  error?: string;
  notice?: string;
  /** The session's CSRF token, posted by the forms when they are sent without JavaScript. */
  csrf?: string;
}) {
  const { view, people } = props;
  const url = `/datasets/${view.id}/sharing`;
  const canSee = view.role !== "none";
  const entries = [...view.editors.map((n) => ({ name: n, role: "editor" })), ...view.viewers.map((n) => ({ name: n, role: "viewer" }))];
  return (
    <section id="sharing" class="sharing" hx-target="this" hx-swap="outerHTML">
      <h2>Sharing</h2>
      <p class="owner">
        Owner: <strong>{view.owner ?? "unknown"}</strong>
        {view.ownerFixed ? <span class="muted"> (assigned by an admin)</span> : null}
      </p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {!canSee ? (
        <p class="muted">
          Everyone can see this dataset's title and file list; only the owner and the people it is shared with can open its content. Ask{" "}
          {view.owner ?? "an admin"} for access.
        </p>
      ) : entries.length === 0 ? (
        <p class="muted">Not shared with anyone yet.</p>
      ) : (
        <table class="grants">
          <thead>
            <tr>
              <th>Who</th>
              <th>May</th>
              {view.canManage ? <th></th> : null}
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td>{e.name.startsWith("@") ? <span title="unix group">{e.name}</span> : e.name}</td>
                <td>{e.role === "editor" ? "view and edit" : "view"}</td>
                {view.canManage ? (
                  <td>
                    <form method="post" action={url} hx-post={url}>
                      <CsrfField token={props.csrf} />
                      <input type="hidden" name="op" value="remove" />
                      <input type="hidden" name="name" value={e.name} />
                      <button type="submit" aria-label={`Remove ${e.name}`}>
                        Remove
                      </button>
                    </form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.canManage ? (
        <form
          class="grant-add"
          method="post"
          action={url}
          hx-post={url}
          style="margin-top: 0.75rem; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap"
        >
          <CsrfField token={props.csrf} />
          <input type="hidden" name="op" value="add" />
          <label>
            Share with <input name="name" list="sharing-people" required autocomplete="off" placeholder="user or @group" />
          </label>
          <select name="role" aria-label="Permission">
            <option value="viewer">may view</option>
            <option value="editor">may view and edit</option>
          </select>
          <button type="submit">Share</button>
          <datalist id="sharing-people">
            {(people?.users ?? []).map((u) => (
              <option value={u} />
            ))}
            {(people?.groups ?? []).map((g) => (
              <option value={g} />
            ))}
          </datalist>
        </form>
      ) : null}
      {canSee && view.acl.enabled && view.acl.error ? <p class="muted">On the share: {view.acl.error}</p> : null}
    </section>
  );
}
