// The weighted LRU behind the tile route's caches (src/preview/lru.ts).
import { expect, test } from "bun:test";
import { WeightedLru } from "../../src/preview/lru.ts";

test("drops the least recently used past its budget, keeps what was just set, weighs a replaced value once", () => {
  const lru = new WeightedLru<string>(10, (v) => v.length);
  lru.set("a", "aaaa");
  lru.set("b", "bbbb");
  expect(lru.get("a")).toBe("aaaa"); // now b is the least recently used
  lru.set("c", "cccc");
  expect([lru.get("a"), lru.get("b"), lru.get("c")]).toEqual(["aaaa", undefined, "cccc"]);
  lru.set("c", "cc"); // 4 + 2: both stay
  expect([lru.get("a"), lru.get("c")]).toEqual(["aaaa", "cc"]);
  lru.set("big", "x".repeat(20)); // over the whole budget: alone, but kept
  expect([lru.get("a"), lru.get("c"), lru.get("big")]).toEqual([undefined, undefined, "x".repeat(20)]);
});
