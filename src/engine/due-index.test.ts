import { describe, expect, it } from "vitest";
import { DueIndex } from "./due-index.js";

/** Keys as the Catalog store writes them: `{topic}.{due, padded}.{tie}`. */
const key = (due: number, tie = "a"): string => `t.${String(due).padStart(15, "0")}.${tie}`;
const dueOf = (k: string): number => Number(k.split(".")[1]);

describe("DueIndex", () => {
  it("takes the due keys in due order, ties by key, and tells when the next is due", () => {
    const index = new DueIndex(dueOf);
    for (const [due, tie] of [
      [5_500, "b"],
      [1_200, "z"],
      [5_500, "a"],
      [1_100, "c"],
      [90_000, "x"],
      [5_400, "q"],
    ] as const)
      index.add("t", key(due, tie));
    expect(index.count("t")).toBe(6);
    expect(index.earliest("t")).toBe(1_100);
    expect(index.take("t", 5_500, 10)).toEqual({
      keys: [key(1_100, "c"), key(1_200, "z"), key(5_400, "q"), key(5_500, "a"), key(5_500, "b")],
      next: 90_000,
    });
    expect(index.take("t", 5_450, 10)).toEqual({
      keys: [key(1_100, "c"), key(1_200, "z"), key(5_400, "q")],
      next: 5_500,
    });
    expect(index.take("t", 9_999, 2)).toEqual({
      keys: [key(1_100, "c"), key(1_200, "z")],
      next: 5_400,
    });
    expect(index.take("t", 1_000, 10)).toEqual({ keys: [], next: 1_100 });
    expect(index.take("other", 1_000_000, 10)).toEqual({ keys: [], next: null });
  });

  it("forgets removed keys, ignores repeats, and drops a topic whose keys are all gone", () => {
    const index = new DueIndex(dueOf);
    index.add("t", key(2_000));
    index.add("t", key(2_000));
    index.add("t", key(7_000));
    index.add("u", key(3_000));
    expect(index.count("t")).toBe(2);
    index.remove("t", key(2_000));
    index.remove("t", key(2_000));
    index.remove("t", key(4_000));
    expect(index.earliest("t")).toBe(7_000);
    expect(index.earliestAll()).toEqual(
      new Map([
        ["t", 7_000],
        ["u", 3_000],
      ]),
    );
    index.remove("t", key(7_000));
    expect(index.earliest("t")).toBeNull();
    expect(index.take("t", 10_000, 10)).toEqual({ keys: [], next: null });
    index.dropTopic("u");
    expect(index.earliestAll().size).toBe(0);
    index.add("t", key(7_000));
    expect(index.take("t", 10_000, 10)).toEqual({ keys: [key(7_000)], next: null });
  });
});
