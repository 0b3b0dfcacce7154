import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { TagNode } from "../../src/tags/tag.types.ts";
import type { ImportReport } from "../../src/tags/tags.service.ts";
import { MAX_DEPTH, MAX_KEY_LENGTH, MAX_TAGS, MAX_VALUE_LENGTH } from "../../src/tags/tag-limits.ts";
import { countTags, flatten, formatPath } from "../../src/tags/tag-tree.ts";
import { CsrfField } from "../web/csrf-field.tsx";

/** A key or value the person typed that the server handed back (after a refusal or a did-you-mean). */
export interface TagDraft {
  key: string;
  value: string;
  /** Add form: the parent address; edit form: the node being edited. */
  path: string;
  /** Edit form: the "move under" choice. */
  to?: string;
}

/** Everything the tags panel can show; the routes re-render the whole panel after every change. */
export interface TagsPanelProps {
  datasetId: number;
  tags: TagNode[];
  tagsVersion: number;
  /** Address of the node shown as an edit form. */
  editing?: string;
  /** Parent address the add form is preset to ("" = top level). */
  addUnder?: string;
  draft?: TagDraft;
  /** The draft's form: "add" or "edit". */
  draftFor?: "add" | "edit";
  didYouMean?: { typed: string; suggestion: string; datasets: number };
  error?: string;
  notice?: string;
  report?: ImportReport;
  /** Which control gets the focus after the swap: "op:PATH:OP", "add-key", "edit-key", "import". */
  focus?: string;
  hasParents: boolean;
  /** False for people who may look but not change (neither owner, editor nor admin): no editing controls. */
  canEdit?: boolean;
  /** The session's CSRF token, posted by the forms when they are sent without JavaScript. */
  csrf?: string;
}

function label(n: TagNode): string {
  return n.value ? `${n.key} = ${n.value}` : n.key;
}

// The tree is rendered with hono's `html` tagged template (interpolations are escaped just like JSX) rather than
// JSX components: a dataset may hold 2,000 tags with seven buttons each, and the template is about 15 times faster.
// It is slim on purpose too: the panel carries the target, swap and version, each tag its address (htmx inherits
// and merges hx-vals), so a button only says which operation it is.
const attr = (on: boolean | undefined, name: string) => (on ? raw(` ${name}`) : "");
const csrfInput = (token: string | undefined) => (token ? html`<input type="hidden" name="_csrf" value="${token}">` : "");

// Submit buttons of the row's form, so they work as a plain form post too; htmx cancels that submit and posts itself.
function opButton(url: string, op: string, text: string, label: string, disabled: boolean, focus: boolean, confirm?: string) {
  return html`<button type="submit" class="tag-op op-${op}" name="op" value="${op}" hx-post="${url}"${confirm ? html` hx-confirm="${confirm}"` : ""} aria-label="${label}"${attr(disabled, "disabled")}${attr(focus, "autofocus")}>${text}</button>`;
}

function DidYouMean(p: { d: NonNullable<TagsPanelProps["didYouMean"]> }) {
  return (
    <div class="did-you-mean" role="alert">
      <p>
        “{p.d.typed}” is a new key. Did you mean “<strong>{p.d.suggestion}</strong>”, used by {p.d.datasets} dataset{p.d.datasets === 1 ? "" : "s"}?
      </p>
      <button type="submit" name="use" value={p.d.suggestion} class="primary" autofocus>
        Use “{p.d.suggestion}”
      </button>{" "}
      <button type="submit" name="confirmKey" value="1">
        Keep “{p.d.typed}”
      </button>
    </div>
  );
}

function KeyValueInputs(p: { prefix: string; keyValue: string; valueValue: string; autofocus: boolean }) {
  return (
    <>
      <label class="suggest">
        <span>Key</span>
        <input
          name="key"
          id={`${p.prefix}-key`}
          value={p.keyValue}
          required
          maxlength={MAX_KEY_LENGTH}
          autocomplete="off"
          data-suggest="keys"
          autofocus={p.autofocus}
        />
      </label>
      <label class="suggest">
        <span>Value</span>
        <input
          name="value"
          id={`${p.prefix}-value`}
          value={p.valueValue}
          maxlength={MAX_VALUE_LENGTH}
          autocomplete="off"
          data-suggest="values"
          data-key-input={`${p.prefix}-key`}
        />
      </label>
    </>
  );
}

function EditForm(p: { props: TagsPanelProps; path: string; node: TagNode }) {
  const { props } = p;
  const draft = props.draftFor === "edit" ? props.draft : undefined;
  const parentPath = p.path.includes(".") ? p.path.slice(0, p.path.lastIndexOf(".")) : "";
  const to = draft?.to ?? parentPath;
  return (
    <form
      class="tag-form tag-edit"
      method="post"
      action={`/datasets/${props.datasetId}/tags/edit`}
      hx-post={`/datasets/${props.datasetId}/tags/edit`}
      hx-target="#tags-panel"
      hx-swap="outerHTML"
    >
      <CsrfField token={props.csrf} />
      <input type="hidden" name="version" value={String(props.tagsVersion)} />
      <input type="hidden" name="path" value={p.path} />
      <KeyValueInputs prefix="edit" keyValue={draft?.key ?? p.node.key} valueValue={draft?.value ?? p.node.value} autofocus={!props.didYouMean} />
      <label>
        <span>Place under</span>
        <select name="to">
          <option value="" selected={to === ""}>
            Top level
          </option>
          {tagOptions(props.tags, to, p.path)}
        </select>
      </label>
      {props.didYouMean && props.draftFor === "edit" ? <DidYouMean d={props.didYouMean} /> : null}
      <span class="form-buttons">
        <button type="submit" class="primary">
          Save
        </button>{" "}
        <button type="button" class="needs-js" hx-get={`/datasets/${props.datasetId}/tags/panel`} hx-target="#tags-panel" hx-swap="outerHTML">
          Cancel
        </button>
        <noscript>
          <a class="button" href={`/datasets/${props.datasetId}#tags-panel`}>
            Cancel
          </a>
        </noscript>
      </span>
    </form>
  );
}

function node(props: TagsPanelProps, n: TagNode, at: number[], siblings: number): HtmlEscapedString | Promise<HtmlEscapedString> {
  const path = formatPath(at);
  const index = at[at.length - 1]!;
  const below = countTags(n.children);
  const disabled: Record<string, boolean> = {
    up: index === 0,
    down: index === siblings - 1,
    indent: index === 0 || at.length >= MAX_DEPTH,
    outdent: at.length === 1,
  };
  // The focus returns to the button just used on this tag; when that one is now disabled, to its Edit button.
  const wanted = props.focus?.startsWith(`op:${path}:`) ? props.focus.slice(`op:${path}:`.length) : undefined;
  const focusOp = wanted && disabled[wanted] ? "edit" : wanted;
  const name = label(n);
  const url = `/datasets/${props.datasetId}/tags/op`;
  const page = `/datasets/${props.datasetId}`;
  const under = below ? ` and the ${below} tag${below === 1 ? "" : "s"} under it` : "";
  const row =
    props.editing === path && props.canEdit !== false
      ? html`${(<EditForm props={props} path={path} node={n} />)}`
      : html`<div class="tag-row"><span class="tag-text"><span class="tag-key">${n.key}</span>${
          n.value ? html` <span class="tag-eq" aria-hidden="true">=</span> <span class="tag-value">${n.value}</span>` : ""
        }</span>${
          props.canEdit === false
            ? ""
            : html`<span class="tag-tools"><button type="button" class="tag-op needs-js" hx-get="${page}/tags/panel?edit=${path}" aria-label="Edit ${name}"${attr(focusOp === "edit", "autofocus")}>Edit</button><button type="button" class="tag-op needs-js" hx-get="${page}/tags/panel?add=${path}" aria-label="Add a tag under ${name}">+ Child</button><noscript><a class="tag-op button" href="${page}?edit-tag=${path}#tags-panel" aria-label="Edit ${name}">Edit</a><a class="tag-op button" href="${page}?add-tag=${path}#tags-panel" aria-label="Add a tag under ${name}">+ Child</a></noscript><form class="inline-form" method="post" action="${url}">${csrfInput(props.csrf)}<input type="hidden" name="path" value="${path}"><input type="hidden" name="version" value="${props.tagsVersion}">${[
                opButton(url, "up", "↑", `Move ${name} up`, disabled.up!, focusOp === "up"),
                opButton(url, "down", "↓", `Move ${name} down`, disabled.down!, focusOp === "down"),
                opButton(url, "indent", "→", `Nest ${name} under the tag above`, disabled.indent!, focusOp === "indent"),
                opButton(url, "outdent", "←", `Move ${name} one level out`, disabled.outdent!, focusOp === "outdent"),
                opButton(url, "delete", "Delete", `Delete ${name}${under}`, false, focusOp === "delete", `Delete “${name}”${under}?`),
              ]}</form></span>`
        }</div>`;
  const kids = n.children.length ? html`<ol class="tag-tree">${n.children.map((c, i) => node(props, c, [...at, i], n.children.length))}</ol>` : "";
  return html`<li class="tag" data-path="${path}" data-key="${n.key}" hx-vals='{"path":"${path}"}'>${row}${kids}</li>`;
}

function tagOptions(tags: TagNode[], selected: string, skip?: string) {
  return flatten(tags)
    .filter((x) => x.path.length < MAX_DEPTH || skip !== undefined)
    .filter((x) => skip === undefined || (formatPath(x.path) !== skip && !formatPath(x.path).startsWith(skip + ".")))
    .map((x) => {
      const v = formatPath(x.path);
      return html`<option value="${v}"${attr(v === selected, "selected")}>${"\u00a0\u00a0".repeat(x.path.length - 1) + label(x.node)}</option>`;
    });
}

function AddForm(p: { props: TagsPanelProps }) {
  const { props } = p;
  const draft = props.draftFor === "add" ? props.draft : undefined;
  const under = draft?.path ?? props.addUnder ?? "";
  const full = countTags(props.tags) >= MAX_TAGS;
  return (
    <form
      class="tag-form tag-add"
      method="post"
      action={`/datasets/${props.datasetId}/tags/add`}
      hx-post={`/datasets/${props.datasetId}/tags/add`}
      hx-target="#tags-panel"
      hx-swap="outerHTML"
      aria-label="Add a tag"
    >
      <CsrfField token={props.csrf} />
      <input type="hidden" name="version" value={String(props.tagsVersion)} />
      <label>
        <span>Under</span>
        <select name="parent">
          <option value="" selected={under === ""}>
            Top level
          </option>
          {tagOptions(props.tags, under)}
        </select>
      </label>
      <KeyValueInputs prefix="add" keyValue={draft?.key ?? ""} valueValue={draft?.value ?? ""} autofocus={props.focus === "add-key" && !props.didYouMean} />
      {props.didYouMean && props.draftFor === "add" ? <DidYouMean d={props.didYouMean} /> : null}
      <button type="submit" class="primary" disabled={full}>
        Add tag
      </button>
      {full ? <p class="muted">This dataset has {MAX_TAGS} tags, the most one dataset may have.</p> : null}
    </form>
  );
}

function Report(p: { report: ImportReport }) {
  const r = p.report;
  if (r.parents === 0)
    return (
      <p class="notice" role="status">
        This dataset has no parents to import tags from. Set its parents below first.
      </p>
    );
  return (
    <div class="notice import-report" role="status">
      <p>
        {r.imported.length === 0
          ? "Nothing new to import: every key of the parents is already set here."
          : `Imported ${r.imported.length} tag${r.imported.length === 1 ? "" : "s"} from the parents:`}
      </p>
      {r.imported.length ? (
        <ul>
          {r.imported.map((i) => (
            <li>
              <strong>{i.key}</strong>
              {i.value ? ` = ${i.value}` : ""}
              {i.children ? ` (with ${i.children} tag${i.children === 1 ? "" : "s"} under it)` : ""} from {i.from.title}
            </li>
          ))}
        </ul>
      ) : null}
      {r.skipped.length ? <p class="muted">Left alone (key already set): {r.skipped.map((s) => `${s.key} (${s.from.title})`).join(", ")}</p> : null}
    </div>
  );
}

/** The tags panel with its editor: every control is a button or form reachable by keyboard; htmx swaps the panel. */
export function TagsPanel(props: TagsPanelProps) {
  const n = countTags(props.tags);
  return (
    <section
      id="tags-panel"
      class="panel tags-panel"
      aria-labelledby="tags-heading"
      data-tags-version={String(props.tagsVersion)}
      hx-target="#tags-panel"
      hx-swap="outerHTML"
      hx-vals={`{"version":"${props.tagsVersion}"}`}
    >
      <h2 id="tags-heading">
        Tags <span class="muted count">{n}</span>
      </h2>
      {props.error ? (
        <div class="error" role="alert">
          {props.error}
        </div>
      ) : null}
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.report ? <Report report={props.report} /> : null}
      {props.tags.length ? (
        <ol class="tag-tree tag-root">{props.tags.map((t, i) => node(props, t, [i], props.tags.length))}</ol>
      ) : (
        <p class="muted empty">No tags yet. Add the first one below{props.hasParents ? ", or import the parents' tags" : ""}.</p>
      )}
      {props.canEdit === false ? <p class="muted">Only the owner, editors and admins can change these tags.</p> : null}
      {props.editing === undefined && props.canEdit !== false ? <AddForm props={props} /> : null}
      <div class="tag-actions" hidden={props.canEdit === false}>
        <form class="inline-form" method="post" action={`/datasets/${props.datasetId}/tags/import`}>
          <CsrfField token={props.csrf} />
          <input type="hidden" name="version" value={String(props.tagsVersion)} />
          <button
            type="submit"
            hx-post={`/datasets/${props.datasetId}/tags/import`}
            hx-vals={JSON.stringify({ version: String(props.tagsVersion) })}
            hx-target="#tags-panel"
            hx-swap="outerHTML"
            autofocus={props.focus === "import"}
            title="Copy each tag of the parent datasets whose key is not set here yet, with the tags under it"
          >
            Import tags from parents
          </button>
        </form>
        <span class="muted limits">
          Limits: {MAX_TAGS} tags, {MAX_DEPTH} levels, values up to {MAX_VALUE_LENGTH.toLocaleString("en-US")} characters.
        </span>
      </div>
    </section>
  );
}
