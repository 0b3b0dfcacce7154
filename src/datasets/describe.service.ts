import { metadataChanged, type AppContext } from "../context.ts";
import { badRequest, conflict, notFound, tooLarge } from "../errors.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH } from "../tags/tag-limits.ts";
import { describeRepo } from "./describe.repo.ts";

/** A title/description edit as the API and the inline form send it. */
export interface DescribeInput {
  title?: unknown;
  description?: unknown;
  version?: unknown;
}

/** The text of a dataset after an edit, with the version the next edit must name. */
export interface Described {
  id: number;
  title: string;
  description: string;
  version: number;
}

function text(v: unknown, name: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw badRequest(`${name} must be text`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)) throw badRequest(`The ${name} contains a control character`);
  const t = name === "title" ? v.trim().replace(/\s+/g, " ") : v.replace(/\r\n/g, "\n").trim();
  if (t.length > max) throw tooLarge(`The ${name} is ${t.length.toLocaleString("en-US")} characters long; the limit is ${max.toLocaleString("en-US")}`);
  return t;
}

function quote(s: string): string {
  return s === "" ? "(empty)" : `"${s.length > 200 ? s.slice(0, 200) + "…" : s}"`;
}

/**
 * Changes the title and/or description. With `version` it refuses (409) an edit made on an older version,
 * naming the current values so the person sees what the other edit changed and nothing is overwritten.
 */
export function describeDataset(ctx: AppContext, actor: string, id: number, input: DescribeInput): Described {
  const title = text(input.title, "title", MAX_TITLE_LENGTH);
  const description = text(input.description, "description", MAX_DESCRIPTION_LENGTH);
  let version: number | undefined;
  if (input.version !== undefined && input.version !== null && input.version !== "") {
    version = typeof input.version === "string" ? Number(input.version) : (input.version as number);
    if (!Number.isInteger(version) || version < 1) throw badRequest("version must be a whole number from 1");
  }
  if (title === undefined && description === undefined) throw badRequest("Nothing to change: give a title and/or a description");
  const repo = describeRepo(ctx.db);
  const out = ctx.db
    .transaction((): Described => {
      const d = repo.get(id);
      if (!d) throw notFound(`No dataset with id ${id}`);
      if (version !== undefined && version !== d.version) {
        const changed: string[] = [];
        changed.push(`title is now ${quote(d.title)}`);
        changed.push(`description is now ${quote(d.description)}`);
        throw conflict(
          `Someone else changed this dataset since you opened it (you had version ${version}, now ${d.version}): ${changed.join("; ")}. Your edit was not saved; it is still in the form.`,
          { current: { title: d.title, description: d.description, version: d.version } },
        );
      }
      const next = { title: title ?? d.title, description: description ?? d.description };
      if (next.title === d.title && next.description === d.description) return { id, ...next, version: d.version };
      const now = ctx.clock.now();
      const v = repo.update(id, next.title, next.description, now);
      const fields = [
        title !== undefined && title !== d.title ? "title" : null,
        description !== undefined && description !== d.description ? "description" : null,
      ].filter(Boolean);
      eventsRepo(ctx.db).record(now, "metadata.edited", id, { fields, version: v }, actor);
      const pick = (o: { title: string; description: string }) => Object.fromEntries(fields.map((f) => [f, o[f as "title" | "description"]]));
      recordAudit(ctx, { action: "metadata.edit", actor, datasetId: id, before: pick(d), after: pick(next), detail: { version: v } });
      return { id, ...next, version: v };
    })
    .immediate();
  metadataChanged(ctx, id);
  return out;
}
