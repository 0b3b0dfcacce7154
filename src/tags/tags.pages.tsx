import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context.ts";
import { AppError } from "../errors.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";
import { getRelatives } from "../relations/relations.service.ts";
import { attempt, formText, formVersion, fragmentStatus } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html } from "../web/schemas.ts";
import { TagsPanel, type TagsPanelProps } from "../../templates/tags/panel.tsx";
import { didYouMean } from "./dictionary.service.ts";
import { dictionaryRepo } from "./dictionary.repo.ts";
import { cleanKey, cleanValue } from "./tag-validate.ts";
import { formatPath, nodeAt, parsePath, pathAfter, type TagOp } from "./tag-tree.ts";
import { applyTagOps, importFromParents, readTags, type ImportReport } from "./tags.service.ts";
import { pageProps } from "../web/page-props.ts";
import { answerPanel } from "../web/plain-form.ts";

function panelView(c: Context<AppEnv>, id: number, extra: Partial<TagsPanelProps> = {}) {
  const { tags, tagsVersion } = readTags(c.var.ctx, id);
  const hasParents = getRelatives(c.var.ctx.db, id).parents.length > 0;
  return <TagsPanel datasetId={id} tags={tags} tagsVersion={tagsVersion} hasParents={hasParents} csrf={pageProps(c).csrf} {...extra} />;
}

/** The panel after a post: swapped in by htmx; without JavaScript, back to the page once `done`, else the page with it. */
function panel(c: Context<AppEnv>, id: number, extra: Partial<TagsPanelProps> = {}, status: 200 | 400 | 409 | 413 = 200, done?: string) {
  return answerPanel(c, id, "tags", panelView(c, id, extra), status, done);
}

const OP_DONE: Record<(typeof OPS)[number], string> = {
  up: "Moved the tag up.",
  down: "Moved the tag down.",
  indent: "Nested the tag under the one above.",
  outdent: "Moved the tag one level out.",
  delete: "Deleted the tag.",
};

function importDone(r: ImportReport): string {
  if (r.parents === 0) return "This dataset has no parents to import tags from.";
  if (r.imported.length === 0) return "Nothing new to import: every key of the parents is already set here.";
  return `Imported ${r.imported.length} tag${r.imported.length === 1 ? "" : "s"} from the parents: ${r.imported.map((i) => i.key).join(", ")}.`;
}

type KeyForm = { confirmKey?: string; version?: number };

/**
 * A key that is new here and close to a common key gets a "did you mean" prompt instead of being saved at once.
 * The prompt is only offered on the version the person saw, so answering it can never skip a 409.
 */
function keyPrompt(c: Context<AppEnv>, id: number, key: string, f: KeyForm): { typed: string; suggestion: string; datasets: number } | undefined {
  if (f.confirmKey === "1") return undefined;
  const hit = didYouMean(c.var.ctx.db, key);
  if (!hit || hit.term === key) return undefined;
  const { tagsVersion } = readTags(c.var.ctx, id);
  if (f.version !== tagsVersion)
    throw new AppError(
      409,
      `Someone else changed these tags since you loaded them (you had version ${f.version ?? "none"}, now ${tagsVersion}). Your change was not applied; here are the current tags.`,
    );
  return { typed: key, suggestion: hit.term, datasets: dictionaryRepo(c.var.ctx.db).keyCount(hit.term) };
}

/** Whether to show editing controls; the route's access rule is what actually refuses a change. */
const canEdit = (c: Context<AppEnv>, id: number) => atLeast(datasetRole(c, id), "editor");

const OPS = ["up", "down", "indent", "outdent", "delete"] as const;
const PANEL = {
  200: html("The tag panel"),
  400: html("The panel with the refusal"),
  409: html("The current panel: someone else changed the tags"),
  413: html("The panel with the refusal"),
  303: { description: "Without JavaScript: done, back to the dataset page" },
};
const TagForm = z.object({ key: formText(), value: formText(), use: formText(), confirmKey: formText(), version: formVersion });

/** The tag editor's htmx fragments on the dataset page: every change answers with the whole panel. */
export const tagsPages = [
  route({
    method: "get",
    path: "/datasets/:id/tags/panel",
    access: "signed-in",
    summary: "The tag panel, optionally editing a tag or adding under one",
    params: DatasetParams,
    query: z.object({ edit: z.string().max(200).optional(), add: z.string().max(200).optional() }),
    responses: { 200: html("The tag panel") },
    handler: (c, { params: { id }, query: { edit, add } }) => {
      if (edit !== undefined) parsePath(edit, "edit");
      if (add !== undefined) parsePath(add, "add");
      return c.html(panelView(c, id, { editing: edit, addUnder: add, focus: add !== undefined ? "add-key" : undefined, canEdit: canEdit(c, id) }));
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/tags/op",
    access: "edit",
    summary: "Move a tag up, down, in or out, or delete its subtree",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ op: z.enum(OPS, { error: `must be one of ${OPS.join(", ")}` }), path: formText(200), version: formVersion }),
    responses: PANEL,
    handler: (c, { params: { id }, body: f }) => {
      const path = parsePath(f.path ?? "");
      return attempt(
        () => {
          const before = readTags(c.var.ctx, id).tags;
          const tagOp = { op: f.op, path } as TagOp;
          applyTagOps(c.var.ctx, c.var.user.name, id, [tagOp], f.version ?? 0);
          const moved = pathAfter(before, tagOp);
          return panel(c, id, { focus: moved ? `op:${formatPath(moved)}:${f.op === "delete" ? "edit" : f.op}` : "add-key" }, 200, OP_DONE[f.op]);
        },
        (e) => panel(c, id, { error: e.message }, fragmentStatus(e)),
      );
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/tags/add",
    access: "edit",
    summary: "Add a tag (at the top or under another)",
    params: DatasetParams,
    bodyType: "form",
    body: TagForm.extend({ parent: formText(200) }),
    responses: PANEL,
    handler: (c, { params: { id }, body: f }) => {
      const draft = { key: f.use ?? f.key ?? "", value: f.value ?? "", path: f.parent ?? "" };
      return attempt(
        () => {
          const parent = parsePath(draft.path, "parent");
          const key = cleanKey(draft.key, "the new tag");
          const value = cleanValue(draft.value, key);
          const prompt = f.use ? undefined : keyPrompt(c, id, key, f);
          if (prompt) return panel(c, id, { draft, draftFor: "add", didYouMean: prompt });
          const before = readTags(c.var.ctx, id).tags;
          applyTagOps(c.var.ctx, c.var.user.name, id, [{ op: "add", parent, key, value }], f.version ?? 0);
          const notice = `Added “${key}”${parent.length ? ` under “${nodeAt(before, parent)?.key}”` : ""}.`;
          return panel(c, id, { focus: "add-key", addUnder: draft.path, notice }, 200, notice);
        },
        (e) => panel(c, id, { error: e.message, draft, draftFor: "add" }, fragmentStatus(e)),
      );
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/tags/edit",
    access: "edit",
    summary: "Change a tag's key and value, and optionally move it under another",
    params: DatasetParams,
    bodyType: "form",
    body: TagForm.extend({ path: formText(200), to: formText(200) }),
    responses: PANEL,
    handler: (c, { params: { id }, body: f }) => {
      const draft = { key: f.use ?? f.key ?? "", value: f.value ?? "", path: f.path ?? "", to: f.to ?? "" };
      return attempt(
        () => {
          const path = parsePath(draft.path);
          const to = parsePath(draft.to, "to");
          const key = cleanKey(draft.key, "the tag");
          const value = cleanValue(draft.value, key);
          const before = readTags(c.var.ctx, id).tags;
          const old = nodeAt(before, path);
          const prompt = f.use || old?.key === key ? undefined : keyPrompt(c, id, key, f);
          if (prompt) return panel(c, id, { editing: draft.path, draft, draftFor: "edit", didYouMean: prompt });
          const ops: TagOp[] = [{ op: "edit", path, key, value }];
          if (formatPath(to) !== formatPath(path.slice(0, -1))) ops.push({ op: "move", path, to });
          applyTagOps(c.var.ctx, c.var.user.name, id, ops, f.version ?? 0);
          const at = ops[1] ? pathAfter(before, ops[1]) : path;
          return panel(c, id, { focus: at ? `op:${formatPath(at)}:edit` : "add-key" }, 200, `Saved “${key}”.`);
        },
        (e) => panel(c, id, { error: e.message, editing: e.status === 409 ? undefined : draft.path, draft, draftFor: "edit" }, fragmentStatus(e)),
      );
    },
  }),
  route({
    method: "post",
    path: "/datasets/:id/tags/import",
    access: "edit",
    summary: "Import tags from the parents",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ version: formVersion }),
    responses: PANEL,
    handler: (c, { params: { id }, body: f }) =>
      attempt(
        () => {
          const report = importFromParents(c.var.ctx, c.var.user.name, id, f.version).report;
          return panel(c, id, { report, focus: "import" }, 200, importDone(report));
        },
        (e) => panel(c, id, { error: e.message }, fragmentStatus(e)),
      ),
  }),
];
