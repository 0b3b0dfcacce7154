import { Hono, type Context } from "hono";
import type { AppEnv } from "../context.ts";
import { AppError, badRequest } from "../errors.ts";
import { pageProps } from "../auth/page-props.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";
import { thumbnailUrls } from "../preview/preview.service.ts";
import { requireDataset } from "../datasets/datasets.service.ts";
import { getRelatives, setParents } from "../relations/relations.service.ts";
import { didYouMean } from "../tags/dictionary.service.ts";
import { dictionaryRepo } from "../tags/dictionary.repo.ts";
import { cleanKey, cleanValue } from "../tags/tag-validate.ts";
import { formatPath, nodeAt, parsePath, pathAfter, type TagOp } from "../tags/tag-tree.ts";
import { applyTagOps, importFromParents, readTags } from "../tags/tags.service.ts";
import { enumParam, idParam, intParam } from "../web/params.ts";
import { DatasetListPage } from "../../templates/datasets/list.tsx";
import { DatasetPage } from "../../templates/datasets/page.tsx";
import { DescribeForm, DescribeView } from "../../templates/datasets/describe.tsx";
import { RelationsPanel } from "../../templates/datasets/relations.tsx";
import { TagsPanel, type TagsPanelProps } from "../../templates/tags/panel.tsx";
import { versionField } from "./body.ts";
import { describeDataset } from "./describe.service.ts";
import { datasetPage, decodeCursor, listPage } from "./pages.service.ts";
import { DATASET_SORTS } from "../datasets/datasets.repo.ts";


const FILES_PER_PAGE = 200;

async function form(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/** Runs a change for an htmx fragment; a refusal (4xx) is rendered into the fragment by `onError`, not swapped away. */
async function attempt<T>(fn: () => T | Promise<T>, onError: (e: AppError) => Response | Promise<Response>): Promise<T | Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError && e.status < 500) return onError(e);
    throw e;
  }
}

function listHandler(c: Context<AppEnv>) {
  const sort = enumParam(c.req.query("sort"), "sort", DATASET_SORTS) ?? "path";
  const desc = c.req.query("order") === "desc";
  const limit = intParam(c.req.query("limit"), "limit", 50, 10, 500);
  const after = c.req.query("after");
  const before = c.req.query("before");
  const cursor = after ? decodeCursor(after, false) : before ? decodeCursor(before, true) : null;
  const page = listPage(c.var.ctx, sort, desc, limit, cursor);
  const thumbs = thumbnailUrls(c.var.ctx.db, page.items.map((r) => r.id));
  const href = (q: Record<string, string>) => `/datasets?${new URLSearchParams({ sort, ...(desc ? { order: "desc" } : {}), ...(limit !== 50 ? { limit: String(limit) } : {}), ...q })}`;
  return c.html(
    <DatasetListPage
      items={page.items.map((r) => ({ id: r.id, path: r.path, title: r.title, owner: r.owner, state: r.state, fileCount: r.file_count, byteCount: r.byte_count, updatedAt: r.updated_at, thumbnail: thumbs.has(r.id) && atLeast(datasetRole(c, r.id), "viewer") ? thumbs.get(r.id) : undefined }))}
      total={page.total}
      sort={sort}
      desc={desc}
      limit={limit}
      nextHref={page.next ? href({ after: page.next }) : null}
      prevHref={page.prev ? href({ before: page.prev }) : null}
      firstHref={href({})}
      sortHref={(s) => `/datasets?${new URLSearchParams({ sort: s, ...(s === sort && !desc ? { order: "desc" } : {}) })}`}
      {...pageProps(c)}
    />,
  );
}

function panel(c: Context<AppEnv>, id: number, extra: Partial<TagsPanelProps> = {}, status: 200 | 400 | 409 | 413 = 200) {
  const { tags, tagsVersion } = readTags(c.var.ctx, id);
  const hasParents = getRelatives(c.var.ctx.db, id).parents.length > 0;
  return c.html(<TagsPanel datasetId={id} tags={tags} tagsVersion={tagsVersion} hasParents={hasParents} {...extra} />, status);
}

function errStatus(e: AppError): 400 | 409 | 413 {
  return e.status === 409 || e.status === 413 ? e.status : 400;
}

/**
 * A key that is new here and close to a common key gets a "did you mean" prompt instead of being saved at once.
 * The prompt is only offered on the version the person saw, so answering it can never skip a 409.
 */
function keyPrompt(c: Context<AppEnv>, id: number, key: string, f: Record<string, string>): { typed: string; suggestion: string; datasets: number } | undefined {
  if (f.confirmKey === "1") return undefined;
  const hit = didYouMean(c.var.ctx.db, key);
  if (!hit || hit.term === key) return undefined;
  const seen = versionField(f.version);
  const { tagsVersion } = readTags(c.var.ctx, id);
  if (seen !== tagsVersion) throw new AppError(409, `Someone else changed these tags since you loaded them (you had version ${seen ?? "none"}, now ${tagsVersion}). Your change was not applied; here are the current tags.`);
  return { typed: key, suggestion: hit.term, datasets: dictionaryRepo(c.var.ctx.db).keyCount(hit.term) };
}

const OPS = ["up", "down", "indent", "outdent", "delete"] as const;

/** Whether to show editing controls; the access enforcement point is what actually refuses a change. */
function canEdit(c: Context<AppEnv>, id: number): boolean {
  return atLeast(datasetRole(c, id), "editor");
}

/** The HTML pages: dataset list and dataset page, and the htmx fragments of its editors. */
export const pagesRoutes = new Hono<AppEnv>()
  .get("/", listHandler)
  .get("/datasets", listHandler)
  .get("/datasets/:id", (c) => {
    const id = idParam(c.req.param("id"));
    const offset = intParam(c.req.query("files"), "files", 0, 0, 1_000_000_000);
    const role = datasetRole(c, id);
    return c.html(<DatasetPage {...datasetPage(c.var.ctx, id, offset, FILES_PER_PAGE)} canEdit={atLeast(role, "editor")} canRead={atLeast(role, "viewer")} {...pageProps(c)} />);
  })

  // Title and description.
  .get("/datasets/:id/describe", (c) => {
    const d = requireDataset(c.var.ctx, idParam(c.req.param("id")));
    return c.html(<DescribeView id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} focus canEdit={canEdit(c, d.id)} />);
  })
  .get("/datasets/:id/describe/edit", (c) => {
    const d = requireDataset(c.var.ctx, idParam(c.req.param("id")));
    return c.html(<DescribeForm id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} />);
  })
  .patch("/datasets/:id/describe", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    const d = requireDataset(c.var.ctx, id);
    return attempt(
      () => {
        const r = describeDataset(c.var.ctx, c.var.user.name, id, { title: f.title ?? "", description: f.description ?? "", version: f.version });
        return c.html(<DescribeView id={id} path={d.path} title={r.title} description={r.description} version={r.version} notice="Saved." focus />);
      },
      (e) => {
        const current = (e.options.details as { current?: { title: string; description: string; version: number } } | undefined)?.current;
        return c.html(<DescribeForm id={id} path={d.path} title={f.title ?? ""} description={f.description ?? ""} version={d.version} error={e.message} current={current} />, errStatus(e));
      },
    );
  })

  // Tags editor.
  .get("/datasets/:id/tags/panel", (c) => {
    const id = idParam(c.req.param("id"));
    const edit = c.req.query("edit");
    const add = c.req.query("add");
    if (edit !== undefined) parsePath(edit, "edit");
    if (add !== undefined) parsePath(add, "add");
    return panel(c, id, { editing: edit, addUnder: add, focus: add !== undefined ? "add-key" : undefined, canEdit: canEdit(c, id) });
  })
  .post("/datasets/:id/tags/op", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    const op = enumParam(f.op, "op", OPS);
    if (!op) throw badRequest("op is required");
    const path = parsePath(f.path ?? "");
    const version = versionField(f.version) ?? 0;
    return attempt(
      () => {
        const before = readTags(c.var.ctx, id).tags;
        const tagOp = { op, path } as TagOp;
        applyTagOps(c.var.ctx, c.var.user.name, id, [tagOp], version);
        const moved = pathAfter(before, tagOp);
        return panel(c, id, { focus: moved ? `op:${formatPath(moved)}:${op === "delete" ? "edit" : op}` : "add-key" });
      },
      (e) => panel(c, id, { error: e.message }, errStatus(e)),
    );
  })
  .post("/datasets/:id/tags/add", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    const draft = { key: f.use ?? f.key ?? "", value: f.value ?? "", path: f.parent ?? "" };
    return attempt(
      () => {
        const parent = parsePath(draft.path, "parent");
        const key = cleanKey(draft.key, "the new tag");
        const value = cleanValue(draft.value, key);
        const prompt = f.use ? undefined : keyPrompt(c, id, key, f);
        if (prompt) return panel(c, id, { draft, draftFor: "add", didYouMean: prompt });
        const before = readTags(c.var.ctx, id).tags;
        const op: TagOp = { op: "add", parent, key, value };
        applyTagOps(c.var.ctx, c.var.user.name, id, [op], versionField(f.version) ?? 0);
        return panel(c, id, { focus: "add-key", addUnder: draft.path, notice: `Added “${key}”${parent.length ? ` under “${nodeAt(before, parent)?.key}”` : ""}.` });
      },
      (e) => panel(c, id, { error: e.message, draft, draftFor: "add" }, errStatus(e)),
    );
  })
  .post("/datasets/:id/tags/edit", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
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
        applyTagOps(c.var.ctx, c.var.user.name, id, ops, versionField(f.version) ?? 0);
        let at: number[] | null = path;
        if (ops[1]) at = pathAfter(before, ops[1]);
        return panel(c, id, { focus: at ? `op:${formatPath(at)}:edit` : "add-key" });
      },
      (e) => panel(c, id, { error: e.message, editing: e.status === 409 ? undefined : draft.path, draft, draftFor: "edit" }, errStatus(e)),
    );
  })
  .post("/datasets/:id/tags/import", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    return attempt(
      () => {
        const r = importFromParents(c.var.ctx, c.var.user.name, id, versionField(f.version));
        return panel(c, id, { report: r.report, focus: "import" });
      },
      (e) => panel(c, id, { error: e.message }, errStatus(e)),
    );
  })

  // Parents.
  .post("/datasets/:id/parents/add", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    const relatives = () => getRelatives(c.var.ctx.db, id);
    return attempt(
      () => {
        if (!f.parent) throw badRequest(f.q ? `Pick a dataset from the list that appears as you type “${f.q}”` : "Type a title or path, then pick a dataset from the list");
        const parent = idParam(f.parent, "parent");
        const current = relatives().parents.map((p) => p.id);
        const r = setParents(c.var.ctx, c.var.user.name, id, current.includes(parent) ? current : [...current, parent]);
        const added = r.parents.find((p) => p.id === parent);
        return c.html(<RelationsPanel datasetId={id} relatives={r} notice={added ? `Added parent “${added.title || added.path}”.` : undefined} focus />);
      },
      (e) => c.html(<RelationsPanel datasetId={id} relatives={relatives()} error={e.message} focus />, errStatus(e)),
    );
  })
  .post("/datasets/:id/parents/remove", async (c) => {
    const id = idParam(c.req.param("id"));
    const f = await form(c);
    const parent = idParam(f.parent, "parent");
    const current = getRelatives(c.var.ctx.db, id).parents.map((p) => p.id);
    const r = setParents(c.var.ctx, c.var.user.name, id, current.filter((p) => p !== parent));
    return c.html(<RelationsPanel datasetId={id} relatives={r} notice="Parent removed." focus />);
  });
