import { describe, expect, test } from "bun:test";
import { typoDistance, typoPrefixes } from "../../src/tags/dictionary.service.ts";
import { applyOp, parsePath, pathAfter, type TagOp } from "../../src/tags/tag-tree.ts";
import type { TagNode } from "../../src/tags/tag.types.ts";

const t = (key: string, children: TagNode[] = []): TagNode => ({ key, value: "", children });
const shape = (tags: TagNode[]): string => tags.map((n) => (n.children.length ? `${n.key}(${shape(n.children)})` : n.key)).join(" ");
const tree = () => [t("A", [t("A1"), t("A2")]), t("B"), t("C", [t("C1")])];

describe("tag tree operations", () => {
  const cases: [TagOp, string, string | null][] = [
    [{ op: "add", parent: [0], key: "X", value: "" }, "A(A1 A2 X) B C(C1)", "0.2"],
    [{ op: "up", path: [2] }, "A(A1 A2) C(C1) B", "1"],
    [{ op: "down", path: [0, 0] }, "A(A2 A1) B C(C1)", "0.1"],
    [{ op: "indent", path: [1] }, "A(A1 A2 B) C(C1)", "0.2"],
    [{ op: "outdent", path: [0, 0] }, "A(A2) A1 B C(C1)", "1"],
    [{ op: "move", path: [0], to: [2, 0] }, "B C(C1(A(A1 A2)))", "1.0.0"],
    [{ op: "move", path: [2, 0], to: [] }, "A(A1 A2) B C C1", "3"],
    [{ op: "delete", path: [0] }, "B C(C1)", null],
  ];
  for (const [op, want, at] of cases) {
    test(`${op.op} ${JSON.stringify(op)}`, () => {
      const before = tree();
      expect(shape(applyOp(before, op))).toBe(want);
      expect(shape(before)).toBe("A(A1 A2) B C(C1)"); // the input is never changed
      expect(pathAfter(before, op)?.join(".") ?? null).toBe(at);
    });
  }

  test("impossible moves are refused with a reason", () => {
    expect(() => applyOp(tree(), { op: "up", path: [0] })).toThrow(/already the first/);
    expect(() => applyOp(tree(), { op: "indent", path: [0] })).toThrow(/tag above it/);
    expect(() => applyOp(tree(), { op: "outdent", path: [1] })).toThrow(/top level/);
    expect(() => applyOp(tree(), { op: "move", path: [0], to: [0, 1] })).toThrow(/under itself/);
    expect(() => applyOp(tree(), { op: "delete", path: [7] })).toThrow(/No tag at 7/);
    expect(() => parsePath("0..1")).toThrow(/0.2.1/);
    expect(parsePath("")).toEqual([]);
  });
});

describe("typo matching", () => {
  test("edit distance counts swaps of neighbours as one edit and stops early", () => {
    expect(typoDistance("specis", "species", 2)).toBe(1);
    expect(typoDistance("speceis", "species", 2)).toBe(1);
    expect(typoDistance("spcies", "species", 2)).toBe(1);
    expect(typoDistance("sheep", "species", 2)).toBe(3);
    expect(typoDistance("abc", "abc", 0)).toBe(0);
  });

  test("one-typo prefixes cover a missing, extra, swapped or wrong letter", () => {
    const v = new Set(typoPrefixes("spce"));
    expect(v.has("spe")).toBe(true); // extra letter typed
    expect(v.has("spec")).toBe(true); // swapped
    expect(v.has("spece")).toBe(true); // missing letter
    expect([...v].some((x) => x.startsWith("spce"))).toBe(false); // plain extensions are the exact query's job
  });
});
