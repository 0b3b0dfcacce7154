import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context.ts";
import { pageProps } from "../web/page-props.ts";
import { atLeast } from "../access/access.cache.ts";
import { datasetRole } from "../access/access.middleware.ts";
import { previewKinds, thumbnailUrls } from "../preview/preview.service.ts";
import { attempt, formText, fragmentStatus } from "../web/fragment.ts";
import { route } from "../web/route.ts";
import { DatasetParams, html, queryEnum, queryInt } from "../web/schemas.ts";
import { DatasetListPage } from "../../templates/datasets/list.tsx";
import { DescribeForm, DescribeView } from "../../templates/datasets/describe.tsx";
import { DATASET_SORTS } from "./datasets.repo.ts";
import { requireDataset } from "./datasets.service.ts";
import { describeDataset } from "./describe.service.ts";
import { decodeCursor, listPage } from "./list-page.service.ts";
import { renderDatasetPage } from "./dataset-page.tsx";
import { answerPanel } from "../web/plain-form.ts";
import { takeFlash } from "../web/plain-form.ts";
import { parsePath } from "../tags/tag-tree.ts";

const ListQuery = z.object({
  sort: queryEnum(DATASET_SORTS),
  order: queryEnum(["asc", "desc"]),
  limit: queryInt(10, 500, 50),
  after: z.string().max(2000).optional(),
  before: z.string().max(2000).optional(),
});

function listHandler(c: Context<AppEnv>, q: z.output<typeof ListQuery>) {
  const sort = q.sort ?? "path";
  const desc = q.order === "desc";
  const limit = q.limit;
  const cursor = q.after ? decodeCursor(q.after, false) : q.before ? decodeCursor(q.before, true) : null;
  const page = listPage(c.var.ctx, sort, desc, limit, cursor);
  const ids = page.items.map((r) => r.id);
  const thumbs = thumbnailUrls(c.var.ctx, ids);
  const kinds = previewKinds(c.var.ctx, ids);
  const href = (extra: Record<string, string>) =>
    `/datasets?${new URLSearchParams({ sort, ...(desc ? { order: "desc" } : {}), ...(limit !== 50 ? { limit: String(limit) } : {}), ...extra })}`;
  return c.html(
    <DatasetListPage
      items={page.items.map((r) => ({
        id: r.id,
        path: r.path,
        title: r.title,
        owner: r.owner,
        state: r.state,
        fileCount: r.file_count,
        byteCount: r.byte_count,
        updatedAt: r.updated_at,
        thumbnail: thumbs.has(r.id) && atLeast(datasetRole(c, r.id), "viewer") ? thumbs.get(r.id) : undefined,
        previewKind: kinds.get(r.id),
      }))}
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

const DESCRIBE_ANSWERS = {
  200: html("The saved text"),
  400: html("The form with the refusal"),
  409: html("The form with the current values"),
  413: html("The form with the refusal"),
};

/** Whether to show editing controls; the route's access rule is what actually refuses a change. */
const canEdit = (c: Context<AppEnv>, id: number) => atLeast(datasetRole(c, id), "editor");

/** The dataset list and dataset page, and the htmx fragments of the title and description editor. */
export const datasetsPages = [
  ...(["/", "/datasets"] as const).map((path) =>
    route({
      method: "get",
      path,
      access: "signed-in",
      summary: "The dataset list, sortable, paged by cursor",
      query: ListQuery,
      responses: { 200: html() },
      handler: (c, { query }) => listHandler(c, query),
    }),
  ),
  route({
    method: "get",
    path: "/datasets/:id",
    access: "signed-in",
    summary: "The dataset page",
    params: DatasetParams,
    query: z.object({
      after: z.string().max(8192).optional().meta({ description: "Show the files after this path" }),
      before: z.string().max(8192).optional().meta({ description: "Show the files before this path (blank: the last ones)" }),
      edit: queryEnum(["describe"], "Open the title and description editor (the link that stands in for its htmx button)"),
      "edit-tag": z.string().max(200).optional().meta({ description: "Open the editor of the tag at this address, e.g. 0.1" }),
      "add-tag": z.string().max(200).optional().meta({ description: "Open the add form under the tag at this address" }),
    }),
    responses: { 200: html() },
    handler: (c, { params: { id }, query: q }) => {
      if (q["edit-tag"] !== undefined) parsePath(q["edit-tag"], "edit-tag");
      if (q["add-tag"] !== undefined) parsePath(q["add-tag"], "add-tag");
      return renderDatasetPage(c, id, {
        files: q.before !== undefined ? { before: q.before } : { after: q.after ?? null },
        open: { describe: q.edit === "describe", editTag: q["edit-tag"], addTag: q["add-tag"] },
        flash: takeFlash(c),
      });
    },
  }),
  route({
    method: "get",
    path: "/datasets/:id/describe",
    access: "signed-in",
    summary: "Title and description, as shown",
    params: DatasetParams,
    responses: { 200: html("The title and description fragment") },
    handler: (c, { params }) => {
      const d = requireDataset(c.var.ctx, params.id);
      return c.html(<DescribeView id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} focus canEdit={canEdit(c, d.id)} />);
    },
  }),
  route({
    method: "get",
    path: "/datasets/:id/describe/edit",
    access: "edit",
    summary: "The title and description editor",
    params: DatasetParams,
    responses: { 200: html("The editor fragment") },
    handler: (c, { params }) => {
      const d = requireDataset(c.var.ctx, params.id);
      return c.html(<DescribeForm id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} csrf={pageProps(c).csrf} />);
    },
  }),
  ...(["patch", "post"] as const).map((method) =>
    route({
      method,
      path: "/datasets/:id/describe",
      access: "edit",
      summary: method === "patch" ? "Save title and description" : "Save title and description (the form without JavaScript)",
      params: DatasetParams,
      bodyType: "form",
      body: z.object({ title: formText(), description: formText(), version: formText(20) }),
      responses: method === "post" ? { ...DESCRIBE_ANSWERS, 303: { description: "Without JavaScript: saved, back to the dataset page" } } : DESCRIBE_ANSWERS,
      handler: (c, { params: { id }, body: f }) => saveDescribe(c, id, f),
    }),
  ),
];

/** Saves title and description: the saved text (htmx) or back to the page (no JavaScript); a refusal keeps the person's text. */
function saveDescribe(c: Context<AppEnv>, id: number, f: { title?: string; description?: string; version?: string }) {
  const d = requireDataset(c.var.ctx, id);
  return attempt(
    () => {
      const r = describeDataset(c.var.ctx, c.var.user.name, id, { title: f.title ?? "", description: f.description ?? "", version: f.version });
      return answerPanel(
        c,
        id,
        "describe",
        <DescribeView id={id} path={d.path} title={r.title} description={r.description} version={r.version} notice="Saved." focus />,
        200,
        "Saved the title and description.",
      );
    },
    (e) => {
      const current = (e.options.details as { current?: { title: string; description: string; version: number } } | undefined)?.current;
      return answerPanel(
        c,
        id,
        "describe",
        <DescribeForm
          id={id}
          path={d.path}
          title={f.title ?? ""}
          description={f.description ?? ""}
          version={d.version}
          error={e.message}
          current={current}
          csrf={pageProps(c).csrf}
        />,
        fragmentStatus(e),
      );
    },
  );
}
