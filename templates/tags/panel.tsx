import type { TagNode } from "../../src/tags/tag.types.ts";
import type { ImportReport } from "../../src/tags/tags.service.ts";
import { MAX_DEPTH, MAX_KEY_LENGTH, MAX_TAGS, MAX_VALUE_LENGTH } from "../../src/tags/tag-limits.ts";
import { countTags, flatten, formatPath } from "../../src/tags/tag-tree.ts";

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
}

function label(n: TagNode): string {
  return n.value ? `${n.key} = ${n.value}` : n.key;
}

function OpButton(p: { id: number; version: number; path: string; op: string; text: string; title: string; focus?: string; confirm?: string; disabled?: boolean }) {
  return (
    <button
      type="button"
      class={`tag-op op-${p.op}`}
      hx-post={`/datasets/${p.id}/tags/op`}
      hx-vals={JSON.stringify({ op: p.op, path: p.path, version: String(p.version) })}
      hx-target="#tags-panel"
      hx-swap="outerHTML"
      hx-confirm={p.confirm}
      title={p.title}
      aria-label={p.title}
      disabled={p.disabled}
      autofocus={p.focus === `op:${p.path}:${p.op}`}
      data-op={p.op}
    >
      {p.text}
    </button>
  );
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
        <input name="value" id={`${p.prefix}-value`} value={p.valueValue} maxlength={MAX_VALUE_LENGTH} autocomplete="off" data-suggest="values" data-key-input={`${p.prefix}-key`} />
      </label>
    </>
  );
}

function EditForm(p: { props: TagsPanelProps; path: string; node: TagNode }) {
  const { props } = p;
  const draft = props.draftFor === "edit" ? props.draft : undefined;
  const parentPath = p.path.includes(".") ? p.path.slice(0, p.path.lastIndexOf(".")) : "";
  const targets = flatten(props.tags).filter((x) => {
    const a = formatPath(x.path);
    return a !== p.path && !a.startsWith(p.path + ".");
  });
  const to = draft?.to ?? parentPath;
  return (
    <form class="tag-form tag-edit" hx-post={`/datasets/${props.datasetId}/tags/edit`} hx-target="#tags-panel" hx-swap="outerHTML">
      <input type="hidden" name="version" value={String(props.tagsVersion)} />
      <input type="hidden" name="path" value={p.path} />
      <KeyValueInputs prefix="edit" keyValue={draft?.key ?? p.node.key} valueValue={draft?.value ?? p.node.value} autofocus={!props.didYouMean} />
      <label>
        <span>Place under</span>
        <select name="to">
          <option value="" selected={to === ""}>Top level</option>
          {targets.map((x) => (
            <option value={formatPath(x.path)} selected={to === formatPath(x.path)}>
              {"  ".repeat(x.path.length - 1) + label(x.node)}
            </option>
          ))}
        </select>
      </label>
      {props.didYouMean && props.draftFor === "edit" ? <DidYouMean d={props.didYouMean} /> : null}
      <span class="form-buttons">
        <button type="submit" class="primary">Save</button>{" "}
        <button type="button" hx-get={`/datasets/${props.datasetId}/tags/panel`} hx-target="#tags-panel" hx-swap="outerHTML">
          Cancel
        </button>
      </span>
    </form>
  );
}

function Node(p: { props: TagsPanelProps; node: TagNode; path: number[]; siblings: number }) {
  const { props, node } = p;
  const path = formatPath(p.path);
  const index = p.path[p.path.length - 1]!;
  const below = countTags(node.children);
  const disabled: Record<string, boolean> = { up: index === 0, down: index === p.siblings - 1, indent: index === 0 || p.path.length >= MAX_DEPTH, outdent: p.path.length === 1 };
  // The focus returns to the button just used on this tag; when that one is now disabled, to its Edit button.
  const wanted = props.focus?.startsWith(`op:${path}:`) ? props.focus.slice(`op:${path}:`.length) : undefined;
  const focusOp = wanted && disabled[wanted] ? "edit" : wanted;
  const common = { id: props.datasetId, version: props.tagsVersion, path, focus: focusOp ? `op:${path}:${focusOp}` : undefined };
  return (
    <li class="tag" data-path={path} data-key={node.key}>
      {props.editing === path ? (
        <EditForm props={props} path={path} node={node} />
      ) : (
        <div class="tag-row">
          <span class="tag-text">
            <span class="tag-key">{node.key}</span>
            {node.value ? (
              <>
                {" "}
                <span class="tag-eq" aria-hidden="true">=</span> <span class="tag-value">{node.value}</span>
              </>
            ) : null}
          </span>
          <span class="tag-tools" role="group" aria-label={`Change ${label(node)}`}>
            <button type="button" class="tag-op op-edit" hx-get={`/datasets/${props.datasetId}/tags/panel?edit=${path}`} hx-target="#tags-panel" hx-swap="outerHTML" title={`Edit ${label(node)}`} aria-label={`Edit ${label(node)}`} autofocus={focusOp === "edit"}>
              Edit
            </button>
            <button type="button" class="tag-op op-child" hx-get={`/datasets/${props.datasetId}/tags/panel?add=${path}`} hx-target="#tags-panel" hx-swap="outerHTML" title={`Add a tag under ${label(node)}`} aria-label={`Add a tag under ${label(node)}`}>
              + Child
            </button>
            <OpButton {...common} op="up" text="↑" title={`Move ${label(node)} up`} disabled={disabled.up} />
            <OpButton {...common} op="down" text="↓" title={`Move ${label(node)} down`} disabled={disabled.down} />
            <OpButton {...common} op="indent" text="→" title={`Nest ${label(node)} under the tag above`} disabled={disabled.indent} />
            <OpButton {...common} op="outdent" text="←" title={`Move ${label(node)} one level out`} disabled={disabled.outdent} />
            <OpButton
              {...common}
              op="delete"
              text="Delete"
              title={`Delete ${label(node)}${below ? ` and the ${below} tag${below === 1 ? "" : "s"} under it` : ""}`}
              confirm={`Delete “${label(node)}”${below ? ` and the ${below} tag${below === 1 ? "" : "s"} under it` : ""}?`}
            />
          </span>
        </div>
      )}
      {node.children.length ? (
        <ol class="tag-tree">
          {node.children.map((c, i) => (
            <Node props={props} node={c} path={[...p.path, i]} siblings={node.children.length} />
          ))}
        </ol>
      ) : null}
    </li>
  );
}

function AddForm(p: { props: TagsPanelProps }) {
  const { props } = p;
  const draft = props.draftFor === "add" ? props.draft : undefined;
  const under = draft?.path ?? props.addUnder ?? "";
  const all = flatten(props.tags).filter((x) => x.path.length < MAX_DEPTH);
  const full = countTags(props.tags) >= MAX_TAGS;
  return (
    <form class="tag-form tag-add" hx-post={`/datasets/${props.datasetId}/tags/add`} hx-target="#tags-panel" hx-swap="outerHTML" aria-label="Add a tag">
      <input type="hidden" name="version" value={String(props.tagsVersion)} />
      <label>
        <span>Under</span>
        <select name="parent">
          <option value="" selected={under === ""}>Top level</option>
          {all.map((x) => (
            <option value={formatPath(x.path)} selected={under === formatPath(x.path)}>
              {"  ".repeat(x.path.length - 1) + label(x.node)}
            </option>
          ))}
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
  if (r.parents === 0) return <p class="notice" role="status">This dataset has no parents to import tags from. Set its parents below first.</p>;
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
      {r.skipped.length ? (
        <p class="muted">
          Left alone (key already set): {r.skipped.map((s) => `${s.key} (${s.from.title})`).join(", ")}
        </p>
      ) : null}
    </div>
  );
}

/** The tags panel with its editor: every control is a button or form reachable by keyboard; htmx swaps the panel. */
export function TagsPanel(props: TagsPanelProps) {
  const n = countTags(props.tags);
  return (
    <section id="tags-panel" class="panel tags-panel" aria-labelledby="tags-heading" data-tags-version={String(props.tagsVersion)}>
      <h2 id="tags-heading">
        Tags <span class="muted count">{n}</span>
      </h2>
      {props.error ? (
        <div class="error" role="alert">
          {props.error}
        </div>
      ) : null}
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      {props.report ? <Report report={props.report} /> : null}
      {props.tags.length ? (
        <ol class="tag-tree tag-root">
          {props.tags.map((t, i) => (
            <Node props={props} node={t} path={[i]} siblings={props.tags.length} />
          ))}
        </ol>
      ) : (
        <p class="muted empty">No tags yet. Add the first one below{props.hasParents ? ", or import the parents' tags" : ""}.</p>
      )}
      {props.editing === undefined ? <AddForm props={props} /> : null}
      <div class="tag-actions">
        <button
          type="button"
          hx-post={`/datasets/${props.datasetId}/tags/import`}
          hx-vals={JSON.stringify({ version: String(props.tagsVersion) })}
          hx-target="#tags-panel"
          hx-swap="outerHTML"
          autofocus={props.focus === "import"}
          title="Copy each tag of the parent datasets whose key is not set here yet, with the tags under it"
        >
          Import tags from parents
        </button>
        <span class="muted limits">
          Limits: {MAX_TAGS} tags, {MAX_DEPTH} levels, values up to {MAX_VALUE_LENGTH.toLocaleString("en-US")} characters.
        </span>
      </div>
    </section>
  );
}
