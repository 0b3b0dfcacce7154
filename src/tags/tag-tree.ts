import { badRequest } from "../errors.ts";
import type { TagNode } from "./tag.types.ts";

/** One edit of the tag editor; `path` addresses a node by sibling indices from the top ("0.2.1"). */
export type TagOp =
  | { op: "add"; parent: number[]; key: string; value: string }
  | { op: "edit"; path: number[]; key: string; value: string }
  | { op: "delete"; path: number[] }
  | { op: "up" | "down" | "indent" | "outdent"; path: number[] }
  | { op: "move"; path: number[]; to: number[] };

/** Parses "0.2.1" ("" is the top level), so forms and URLs can carry a node address. */
export function parsePath(raw: unknown, name = "path"): number[] {
  if (typeof raw !== "string" || (raw !== "" && !/^\d{1,4}(\.\d{1,4}){0,15}$/.test(raw))) throw badRequest(`${name} must look like 0.2.1`);
  return raw === "" ? [] : raw.split(".").map(Number);
}

/** The "0.2.1" form of a node address. */
export function formatPath(path: number[]): string {
  return path.join(".");
}

function clone(tags: TagNode[]): TagNode[] {
  return tags.map((t) => ({ key: t.key, value: t.value, children: clone(t.children) }));
}

function siblingsOf(tags: TagNode[], path: number[]): { list: TagNode[]; index: number } {
  let list = tags;
  for (let i = 0; i < path.length - 1; i++) {
    const n = list[path[i]!];
    if (!n) throw badRequest(`No tag at ${formatPath(path)}: the tree may have changed; reload`);
    list = n.children;
  }
  const index = path[path.length - 1];
  if (index === undefined || !list[index]) throw badRequest(`No tag at ${formatPath(path)}: the tree may have changed; reload`);
  return { list, index };
}

function childrenAt(tags: TagNode[], path: number[]): TagNode[] {
  if (path.length === 0) return tags;
  const { list, index } = siblingsOf(tags, path);
  return list[index]!.children;
}

/** The node at an address, or undefined. */
export function nodeAt(tags: TagNode[], path: number[]): TagNode | undefined {
  let list = tags;
  let node: TagNode | undefined;
  for (const i of path) {
    node = list[i];
    if (!node) return undefined;
    list = node.children;
  }
  return node;
}

/** Applies one editor operation to a copy of the tree (keys and values already cleaned); limits are checked by the caller. */
export function applyOp(tags: TagNode[], op: TagOp): TagNode[] {
  const tree = clone(tags);
  switch (op.op) {
    case "add":
      childrenAt(tree, op.parent).push({ key: op.key, value: op.value, children: [] });
      return tree;
    case "edit": {
      const { list, index } = siblingsOf(tree, op.path);
      list[index] = { ...list[index]!, key: op.key, value: op.value };
      return tree;
    }
    case "delete": {
      const { list, index } = siblingsOf(tree, op.path);
      list.splice(index, 1);
      return tree;
    }
    case "up":
    case "down": {
      const { list, index } = siblingsOf(tree, op.path);
      const to = op.op === "up" ? index - 1 : index + 1;
      if (to < 0 || to >= list.length) throw badRequest(`That tag is already the ${op.op === "up" ? "first" : "last"} at its level`);
      [list[index], list[to]] = [list[to]!, list[index]!];
      return tree;
    }
    case "indent": {
      const { list, index } = siblingsOf(tree, op.path);
      if (index === 0) throw badRequest("Only a tag with a tag above it at the same level can be nested under that tag");
      const [node] = list.splice(index, 1);
      list[index - 1]!.children.push(node!);
      return tree;
    }
    case "outdent": {
      if (op.path.length < 2) throw badRequest("That tag is already at the top level");
      const { list, index } = siblingsOf(tree, op.path);
      const [node] = list.splice(index, 1);
      const parentPath = op.path.slice(0, -1);
      const { list: parentList, index: parentIndex } = siblingsOf(tree, parentPath);
      parentList.splice(parentIndex + 1, 0, node!);
      return tree;
    }
    case "move": {
      const from = formatPath(op.path);
      const to = formatPath(op.to);
      if (to === from || to.startsWith(from + ".")) throw badRequest("A tag cannot be moved under itself or one of its own children");
      const node = nodeAt(tree, op.path);
      const target = op.to.length ? nodeAt(tree, op.to) : undefined;
      if (!node || (op.to.length && !target)) throw badRequest("No such tag: the tree may have changed; reload");
      const { list, index } = siblingsOf(tree, op.path);
      list.splice(index, 1);
      (target ? target.children : tree).push(node);
      return tree;
    }
  }
}

/** Every node with its address, depth first, for menus such as "move under". */
export function flatten(tags: TagNode[], prefix: number[] = []): { path: number[]; node: TagNode }[] {
  return tags.flatMap((node, i) => [{ path: [...prefix, i], node }, ...flatten(node.children, [...prefix, i])]);
}

/** How many nodes a tree holds. */
export function countTags(tags: TagNode[]): number {
  return tags.reduce((n, t) => n + 1 + countTags(t.children), 0);
}

/** Where the node an operation acted on sits afterwards, so the editor can put the keyboard focus back on it. */
export function pathAfter(before: TagNode[], op: TagOp): number[] | null {
  if (op.op === "delete") return null;
  // Follow the node by giving it a key no real tag can have (keys never hold control characters).
  const mark = "\u0000moved";
  let tree = before;
  let marked: TagOp = op;
  if (op.op === "add" || op.op === "edit") marked = { ...op, key: mark };
  else {
    tree = clone(before);
    const node = nodeAt(tree, op.path);
    if (!node) return null;
    node.key = mark;
  }
  try {
    return flatten(applyOp(tree, marked)).find((x) => x.node.key === mark)?.path ?? null;
  } catch {
    return null;
  }
}
