/** The schemas page's diff (dashboard/src/json-diff.ts) on its own. */
import { describe, expect, it } from "vitest";
import {
  collapse,
  type DiffLine,
  jsonDiff,
  lineDiff,
  MAX_EDITS,
} from "../../dashboard/src/json-diff.ts";

/** Applies a diff to its left side: the result must be its right side. */
function apply(lines: readonly DiffLine[]): { before: string[]; after: string[] } {
  const before: string[] = [];
  const after: string[] = [];
  for (const l of lines) {
    if (l.kind === "skip") throw new Error("uncollapsed diffs have no skips");
    if (l.kind !== "added") before.push(l.text);
    if (l.kind !== "removed") after.push(l.text);
  }
  return { before, after };
}

describe("lineDiff", () => {
  it("marks nothing for equal inputs, and everything for disjoint ones", () => {
    expect(lineDiff(["a", "b"], ["a", "b"]).map((l) => l.kind)).toEqual(["same", "same"]);
    expect(lineDiff([], [])).toEqual([]);
    expect(lineDiff(["a"], ["b"])).toEqual([
      { kind: "removed", text: "a" },
      { kind: "added", text: "b" },
    ]);
    expect(lineDiff([], ["x"])).toEqual([{ kind: "added", text: "x" }]);
    expect(lineDiff(["x"], [])).toEqual([{ kind: "removed", text: "x" }]);
  });

  it("finds a shortest edit and reproduces both sides", () => {
    const a = "a b c a b b a".split(" ");
    const b = "c b a b a c".split(" ");
    const diff = lineDiff(a, b);
    expect(apply(diff)).toEqual({ before: a, after: b });
    // The classic Myers example: 5 edits are the fewest.
    expect(diff.filter((l) => l.kind !== "same")).toHaveLength(5);
  });

  it("reproduces both sides of random inputs", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 200; run++) {
      const side = () =>
        Array.from({ length: Math.floor(rand() * 12) }, () => "abc"[Math.floor(rand() * 3)] ?? "");
      const a = side();
      const b = side();
      expect(apply(lineDiff(a, b))).toEqual({ before: a, after: b });
    }
  });

  it("stays fast on a long schema with one change", () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[10_000] = "changed";
    const started = performance.now();
    const diff = lineDiff(a, b);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(diff.filter((l) => l.kind !== "same")).toEqual([
      { kind: "removed", text: "line 10000" },
      { kind: "added", text: "changed" },
    ]);
  });
});

it("gives up on a diff longer than MAX_EDITS: all removed, then all added", () => {
  const a = Array.from({ length: MAX_EDITS }, (_, i) => `a${i}`);
  const b = Array.from({ length: 2 }, (_, i) => `b${i}`);
  const diff = lineDiff(a, b);
  expect(apply(diff)).toEqual({ before: a, after: b });
  expect(diff.filter((l) => l.kind === "same")).toHaveLength(0);
});

describe("collapse", () => {
  it("keeps the context around changes and counts what it skips", () => {
    const lines = lineDiff(
      Array.from({ length: 20 }, (_, i) => `${i}`),
      Array.from({ length: 20 }, (_, i) => (i === 10 ? "ten" : `${i}`)),
    );
    expect(collapse(lines, 2)).toEqual([
      { kind: "skip", count: 8 },
      { kind: "same", text: "8" },
      { kind: "same", text: "9" },
      { kind: "removed", text: "10" },
      { kind: "added", text: "ten" },
      { kind: "same", text: "11" },
      { kind: "same", text: "12" },
      { kind: "skip", count: 7 },
    ]);
  });
});

describe("jsonDiff", () => {
  it("diffs pretty-printed schemas and ignores key order", () => {
    const v1 = { type: "object", properties: { total: { type: "number", minimum: 0 } } };
    const v2 = {
      properties: { total: { type: "number" }, note: { type: "string" } },
      type: "object",
    };
    const diff = jsonDiff(v1, v2);
    expect(diff.added).toBe(3);
    expect(diff.removed).toBe(1);
    expect(diff.lines.filter((l) => l.kind === "removed")).toEqual([
      { kind: "removed", text: '      "minimum": 0,' },
    ]);
    expect(diff.lines.filter((l) => l.kind === "added")).toEqual([
      { kind: "added", text: '    "note": {' },
      { kind: "added", text: '      "type": "string"' },
      { kind: "added", text: "    }," },
    ]);
    expect(jsonDiff({ b: 1, a: 2 }, { a: 2, b: 1 })).toMatchObject({ added: 0, removed: 0 });
  });
});
