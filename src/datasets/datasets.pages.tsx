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
import { DatasetPage } from "../../templates/datasets/page.tsx";
import { DescribeForm, DescribeView } from "../../templates/datasets/describe.tsx";
import { DATASET_SORTS } from "./datasets.repo.ts";
import { requireDataset } from "./datasets.service.ts";
import { describeDataset } from "./describe.service.ts";
import { datasetPage, decodeCursor, listPage } from "./list-page.service.ts";

const FILES_PER_PAGE = 100;

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
    }),
    responses: { 200: html() },
    handler: (c, { params: { id }, query }) => {
      const role = datasetRole(c, id);
      return c.html(
        <DatasetPage
          {...datasetPage(c.var.ctx, id, query.before !== undefined ? { before: query.before } : { after: query.after ?? null }, FILES_PER_PAGE)}
          canEdit={atLeast(role, "editor")}
          canRead={atLeast(role, "viewer")}
          {...pageProps(c)}
        />,
      );
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
      return c.html(<DescribeForm id={d.id} path={d.path} title={d.title} description={d.description} version={d.version} />);
    },
  }),
  route({
    method: "patch",
    path: "/datasets/:id/describe",
    access: "edit",
    summary: "Save title and description",
    params: DatasetParams,
    bodyType: "form",
    body: z.object({ title: formText(), description: formText(), version: formText(20) }),
    responses: {
      200: html("The saved text"),
      400: html("The form with the refusal"),
      409: html("The form with the current values"),
      413: html("The form with the refusal"),
    },
    handler: (c, { params: { id }, body: f }) => {
      const d = requireDataset(c.var.ctx, id);
      return attempt(
        () => {
          const r = describeDataset(c.var.ctx, c.var.user.name, id, { title: f.title ?? "", description: f.description ?? "", version: f.version });
          return c.html(<DescribeView id={id} path={d.path} title={r.title} description={r.description} version={r.version} notice="Saved." focus />);
        },
        (e) => {
          const current = (e.options.details as { current?: { title: string; description: string; version: number } } | undefined)?.current;
          return c.html(
            <DescribeForm
              id={id}
              path={d.path}
              title={f.title ?? ""}
              description={f.description ?? ""}
              version={d.version}
              error={e.message}
              current={current}
            />,
            fragmentStatus(e),
          );
        },
      );
    },
  }),
];
