import { describe, expect, it } from "vitest";
import { isoTime } from "./iso-time.js";

describe("isoTime", () => {
  it("formats like Date#toISOString, for repeated and changing milliseconds", () => {
    for (const ms of [0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 5, 0])
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
