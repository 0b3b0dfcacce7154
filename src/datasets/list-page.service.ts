import { listPreviews, previewSummary } from "../preview/preview.service.ts";
import type { AppContext } from "../context.ts";
import { badRequest } from "../errors.ts";
import { fileCursorPage, requireDataset, type FileCursor } from "./datasets.service.ts";
import { getRelatives } from "../relations/relations.service.ts";
import { readTags } from "../tags/tags.service.ts";
import { pagesRepo, sortValue, type ListRow, type ListSort } from "./list-page.repo.ts";

/** A position in the list: the sort value and id of a row, and which side of it the page lies. */
export interface Cursor {
  value: string | number;
  id: number;
  before: boolean;
}

/** Opaque, URL-safe form of a cursor for "next"/"previous" links. */
export function encodeCursor(row: ListRow, sort: ListSort): string {
  return Buffer.from(JSON.stringify([sortValue(row, sort), row.id])).toString("base64url");
}

/** Reads a cursor from a link, refusing anything that is not one with a 400. */
export function decodeCursor(raw: string, before: boolean): Cursor {
  try {
    const v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && (typeof v[0] === "string" || typeof v[0] === "number") && Number.isInteger(v[1]))
      return { value: v[0], id: v[1], before };
  } catch {
    // fall through to the error below
  }
  throw badRequest("The page link is not valid; go back to the first page");
}

/** One page of the dataset list with cursors for the pages beside it. */
export function listPage(ctx: AppContext, sort: ListSort, desc: boolean, limit: number, cursor: Cursor | null) {
  const repo = pagesRepo(ctx.db);
  const rows = repo.page(sort, desc, limit, cursor);
  const more = rows.length > limit;
  let items = rows.slice(0, limit);
  if (cursor?.before) items = items.reverse();
  const first = items[0];
  const last = items[items.length - 1];
  const hasNext = cursor?.before ? true : more;
  const hasPrev = cursor?.before ? more : cursor !== null;
  return {
    items,
    total: repo.total(),
    next: hasNext && last ? encodeCursor(last, sort) : null,
    prev: hasPrev && first ? encodeCursor(first, sort) : null,
  };
}

/** Everything the dataset page renders, read in one place; its files one keyset page at a time. */
export function datasetPage(ctx: AppContext, id: number, filesAt: FileCursor, filesLimit: number) {
  const d = requireDataset(ctx, id);
  const { tags, tagsVersion } = readTags(ctx, id);
  return {
    d: {
      id: d.id,
      path: d.path,
      title: d.title,
      description: d.description,
      owner: d.owner,
      state: d.state,
      version: d.version,
      fileCount: d.file_count,
      byteCount: d.byte_count,
      updatedAt: d.updated_at,
      scanError: d.scan_error,
    },
    tags,
    tagsVersion,
    relatives: getRelatives(ctx.db, id),
    files: fileCursorPage(ctx, id, filesAt, filesLimit),
    preview: { summary: previewSummary(ctx, id), previews: listPreviews(ctx, id) },
  };
}
