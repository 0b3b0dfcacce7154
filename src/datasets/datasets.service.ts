import { closeSync, fstatSync } from "node:fs";
import path from "node:path";
import { openBeneath } from "../platform/beneath.ts";
import { nameToBytes } from "../sync/names.ts";
import type { AppContext } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { getTagTree } from "../tags/tags.service.ts";
import { listPreviews, previewSummary } from "../preview/preview.service.ts";
import { extractionDetail } from "../extract/extract.service.ts";
import { datasetsRepo, type DatasetRow, type FileRow, type ListFilter, type SortKey } from "./datasets.repo.ts";

/** The dataset as `/api/v1/datasets` lists it. */
export function datasetSummary(d: DatasetRow) {
  return {
    id: d.id,
    path: d.path,
    title: d.title || lastSegment(d.path),
    owner: d.owner,
    state: d.state,
    files: { count: d.file_count, bytes: d.byte_count },
    updatedAt: new Date(d.updated_at).toISOString(),
  };
}

function lastSegment(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Lists datasets a page at a time. */
export function listDatasets(ctx: AppContext, f: ListFilter, sort: SortKey, desc: boolean, limit: number, offset: number) {
  const { items, total } = datasetsRepo(ctx.db).list(f, sort, desc, limit, offset);
  return { items: items.map(datasetSummary), total };
}

/** A dataset or a 404 naming the id. */
export function requireDataset(ctx: AppContext, id: number): DatasetRow {
  const d = datasetsRepo(ctx.db).get(id);
  if (!d) throw notFound(`No dataset with id ${id}`);
  return d;
}

/** Everything the detail JSON shows about one dataset; `reader`: the caller may read it (privacy and extraction facts). */
export function datasetDetail(ctx: AppContext, id: number, opts: { reader?: boolean } = {}) {
  const repo = datasetsRepo(ctx.db);
  const d = requireDataset(ctx, id);
  return {
    ...datasetSummary(d),
    uid: d.uid,
    description: d.description,
    version: d.version,
    tagsVersion: d.tags_version,
    generation: d.generation,
    scanError: d.scan_error,
    createdAt: new Date(d.created_at).toISOString(),
    missingSince: d.missing_since ? new Date(d.missing_since).toISOString() : null,
    parents: repo.parentIds(id),
    children: repo.childIds(id),
    tags: getTagTree(ctx.db, id),
    preview: previewSummary(ctx, id),
    previews: listPreviews(ctx, id),
    ...(opts.reader ? extractionDetail(ctx, id) : {}),
  };
}

/** Where a page of a dataset's files starts: after a path (null: the first page), or back before one ("": the last page). */
export type FileCursor = { after: string | null } | { before: string };

/**
 * One keyset page of a dataset's files in path order, with the cursors of the pages beside it (`next`: list after
 * this path; `prev`: list before this one), each null where there is nothing more that way.
 */
export function fileCursorPage(ctx: AppContext, id: number, cursor: FileCursor, limit: number): { items: FileRow[]; next: string | null; prev: string | null } {
  const repo = datasetsRepo(ctx.db);
  const rows = repo.filesPage(id, cursor, limit + 1);
  const more = rows.length > limit;
  if ("before" in cursor) {
    const items = more ? rows.slice(1) : rows;
    const last = items[items.length - 1];
    return { items, prev: more ? items[0]!.path : null, next: last && cursor.before !== "" && repo.hasFileFrom(id, cursor.before) ? last.path : null };
  }
  const items = rows.slice(0, limit);
  const first = items[0];
  const prev = cursor.after !== null && repo.hasFileUpTo(id, cursor.after) ? (first?.path ?? "") : null;
  return { items, next: more ? items[items.length - 1]!.path : null, prev };
}

const fileView = (f: FileRow) => ({ path: f.path, size: f.size, modifiedAt: new Date(f.mtime_ms).toISOString() });

/**
 * The files of a dataset, a page at a time (listing is open to every signed-in account): after a path cursor
 * (`after`, as deep pages cost what the first does), or at an offset.
 */
export function listFiles(ctx: AppContext, id: number, limit: number, at: { after: string } | { offset: number }) {
  const d = requireDataset(ctx, id);
  if ("after" in at) {
    const page = fileCursorPage(ctx, id, { after: at.after }, limit);
    return { items: page.items.map(fileView), total: d.file_count, next: page.next };
  }
  const rows = datasetsRepo(ctx.db).files(id, limit + 1, at.offset);
  const items = rows.slice(0, limit);
  return { items: items.map(fileView), total: d.file_count, next: rows.length > limit ? items[items.length - 1]!.path : null };
}

/**
 * Resolves a file of a dataset to its absolute path, refusing anything the database does not list
 * and anything whose real path leaves the dataset folder (a symlink swapped in since the scan).
 */
export function resolveDatasetFile(ctx: AppContext, id: number, relPath: string): { fd: number; name: string } {
  if (relPath === "" || relPath.includes("\0")) throw badRequest("A file path is required");
  const segments = relPath.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..") || relPath.includes("\\")) throw badRequest(`Invalid file path ${JSON.stringify(relPath)}`);
  const d = requireDataset(ctx, id);
  if (d.state !== "present") throw notFound(`Dataset ${id} is missing from the share`);
  if (!datasetsRepo(ctx.db).file(id, relPath)) throw notFound(`No file ${relPath} in dataset ${id}`);
  // Opened beneath the root with no symlink at any component (a folder swapped for a link to /etc is refused
  // whatever the timing), by its exact bytes (stored names may escape bytes that are not UTF-8: src/sync/names.ts).
  let fd: number;
  try {
    fd = openBeneath(ctx.config.root, nameToBytes(`${d.path}/${relPath}`));
  } catch {
    throw notFound(`File ${relPath} is no longer on the share`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw notFound(`No file ${relPath} in dataset ${id}`);
  }
  return { fd, name: path.basename(relPath) };
}
