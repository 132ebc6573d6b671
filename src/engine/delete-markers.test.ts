import { describe, expect, it } from "vitest";
import { type DeleteMarker, DeleteMarkers } from "./delete-markers.js";

const marker = (key: string, at: number): DeleteMarker => ({ kind: "k", key, revision: at, at });

describe("DeleteMarkers", () => {
  it("erases only markers keepMs old, and tries a failed erase again next time", async () => {
    const markers = new DeleteMarkers(1_000);
    for (const [key, at] of [
      ["a", 100],
      ["b", 200],
      ["c", 900],
    ] as const)
      markers.note(marker(key, at));
    const erased: string[] = [];
    let failB = true;
    const erase = async (m: DeleteMarker) => {
      if (m.key === "b" && failB) throw new Error("unreachable");
      erased.push(m.key);
    };
    expect(await markers.prune(1_150, erase)).toBe(1);
    expect(erased).toEqual(["a"]);
    expect(markers.pending).toBe(2);
    expect(await markers.prune(1_250, erase)).toBe(0); // b failed: kept
    failB = false;
    expect(await markers.prune(1_250, erase)).toBe(1);
    expect(await markers.prune(1_899, erase)).toBe(0);
    expect(await markers.prune(1_900, erase)).toBe(1);
    expect(erased).toEqual(["a", "b", "c"]);
    expect(markers.pending).toBe(0);
  });

  it("forgets markers three times keepMs older than the newest (another node erased them)", async () => {
    const markers = new DeleteMarkers(1_000);
    markers.note(marker("old", 0));
    markers.note(marker("mid", 2_500));
    markers.note(marker("new", 3_001));
    expect(markers.pending).toBe(2);
    const erased: string[] = [];
    await markers.prune(10_000, async (m) => {
      erased.push(m.key);
    });
    expect(erased).toEqual(["mid", "new"]);
  });
});
