// `KEY=VALUE` arguments of `mata tags set` and how they change a tag tree, kept pure so they are easy to test.
import type { TagNode } from "../../tags/tag.types.ts";
import { UsageError } from "../command.ts";

/** One `Scan/Voltage=90` argument: the key path from the top level down, and the value for its last key. */
export interface TagAssignment {
  keys: string[];
  value: string;
}

/** Parses `KEY=VALUE` (split on the first `=`, so values may hold `=`); nested keys are joined by `/`, none may be empty. */
export function parseAssignment(arg: string): TagAssignment {
  const eq = arg.indexOf("=");
  if (eq < 0) throw new UsageError(`${JSON.stringify(arg)} is not KEY=VALUE (nested keys as Scan/Voltage=90)`);
  const keys = arg
    .slice(0, eq)
    .split("/")
    .map((k) => k.trim());
  if (keys.some((k) => k === "")) throw new UsageError(`${JSON.stringify(arg)} has an empty key: every key in Scan/Voltage=90 needs a name`);
  return { keys, value: arg.slice(eq + 1).trim() };
}

/**
 * Returns a new tree with each assignment applied in turn: the first tag with the key at each level is
 * followed (a missing one is appended, empty-valued), the last one gets the value; order and all
 * other tags stay as they were.
 */
export function applyAssignments(tree: TagNode[], assignments: TagAssignment[]): TagNode[] {
  return assignments.reduce((t, a) => setAt(t, a.keys, a.value), tree);
}

function setAt(nodes: TagNode[], keys: string[], value: string): TagNode[] {
  const [key, ...rest] = keys as [string, ...string[]];
  const at = nodes.findIndex((n) => n.key === key);
  const current: TagNode = at >= 0 ? nodes[at]! : { key, value: "", children: [] };
  const next: TagNode = rest.length === 0 ? { ...current, value } : { ...current, children: setAt(current.children, rest, value) };
  return at >= 0 ? nodes.map((n, i) => (i === at ? next : n)) : [...nodes, next];
}
