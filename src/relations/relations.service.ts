import { metadataChanged, type AppContext } from "../context.ts";
import { badRequest, conflict, notFound, tooLarge } from "../errors.ts";
import { eventsRepo } from "../events/events.repo.ts";
import { recordAudit } from "../audit/audit.service.ts";
import { MAX_PARENTS } from "./relation-limits.ts";
import type { Database } from "bun:sqlite";
import { relationsRepo, type RelativeRow } from "./relations.repo.ts";

/** A dataset's direct relatives, for its page and the detail JSON. */
export interface Relatives {
  parents: RelativeRow[];
  children: RelativeRow[];
  siblings: RelativeRow[];
}

/** Parents, children and siblings (other children of any of its parents) of one dataset. */
export function getRelatives(db: Database, id: number): Relatives {
  const repo = relationsRepo(db);
  return { parents: repo.parents(id), children: repo.children(id), siblings: repo.siblings(id) };
}

function label(d: RelativeRow | null | undefined, id: number): string {
  return d ? `"${d.title || d.path}" (${d.path})` : `#${id}`;
}

/**
 * The chain child -> ... -> target if `target` descends from `from`, found breadth first; making `target`
 * a parent of `from` would then close a cycle along it.
 */
function descentPath(db: Database, from: number, target: number): number[] | null {
  const repo = relationsRepo(db);
  const cameFrom = new Map<number, number>([[from, from]]);
  const queue = [from];
  while (queue.length) {
    const cur = queue.shift()!;
    if (cur === target) {
      const path = [cur];
      for (let at = cur; at !== from;) {
        at = cameFrom.get(at)!;
        path.unshift(at);
      }
      return path;
    }
    for (const c of repo.childIds(cur)) {
      if (!cameFrom.has(c)) {
        cameFrom.set(c, cur);
        queue.push(c);
      }
    }
  }
  return null;
}

/**
 * Sets which datasets this one was derived from (several allowed). Refuses with 409 a parent that would make
 * the relation graph cyclic, naming the datasets along the cycle.
 */
export function setParents(ctx: AppContext, actor: string, id: number, parentIds: number[]): Relatives {
  if (parentIds.length > MAX_PARENTS) throw tooLarge(`A dataset may name at most ${MAX_PARENTS} parents`);
  const repo = relationsRepo(ctx.db);
  ctx.db
    .transaction(() => {
      const self = repo.get(id);
      if (!self) throw notFound(`No dataset with id ${id}`);
      for (const p of parentIds) {
        if (p === id) throw conflict(`${label(self, id)} cannot be its own parent: that would be a cycle ${label(self, id)} → ${label(self, id)}`);
        if (!repo.get(p)) throw badRequest(`No dataset with id ${p} to use as a parent`);
        const chain = descentPath(ctx.db, id, p);
        if (chain) {
          const names = [...chain, id].map((n) => label(repo.get(n), n));
          throw conflict(`Refused: that would make a cycle, since ${label(repo.get(p), p)} is derived from this dataset: ${names.join(" → ")}`, {
            cycle: [...chain, id],
          });
        }
      }
      const now = ctx.clock.now();
      const before = repo.parents(id).map((p) => ({ id: p.id, path: p.path }));
      repo.setParents(id, parentIds, now);
      eventsRepo(ctx.db).record(now, "relations.changed", id, { parents: parentIds }, actor);
      const after = parentIds.map((p) => ({ id: p, path: repo.get(p)!.path }));
      recordAudit(ctx, { action: "relations.edit", actor, datasetId: id, before, after });
    })
    .immediate();
  metadataChanged(ctx, id);
  return getRelatives(ctx.db, id);
}

/** Datasets matching the start of a title or path, for the parent picker. */
export function pickDatasets(db: Database, text: string, limit = 12): RelativeRow[] {
  const t = text.trim();
  if (t === "") return [];
  return relationsRepo(db).byPrefix(t.slice(0, 200), limit);
}

/** The one dataset (other than `self`) a typed text names: its exact path, or the only title or path starting with it; else the paths it could mean. */
export function namedDataset(db: Database, text: string, self: number): number | string[] {
  const exact = relationsRepo(db).byPath(text.trim());
  if (exact && exact.id !== self) return exact.id;
  const hits = pickDatasets(db, text, 7).filter((d) => d.id !== self && d.state === "present");
  return hits.length === 1 ? hits[0]!.id : hits.map((d) => d.path);
}
