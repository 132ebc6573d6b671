import { describe, expect, it } from "vitest";
import { type LogRecord, toStoredEvent } from "./stored-event.js";

const record = (topic: string, offset: number, appendedAt: number): LogRecord => ({
  topic,
  offset,
  appendedAt,
  key: null,
  body: JSON.stringify({ id: `e${offset}`, source: "/s" }),
});

describe("stored event JSON", () => {
  it("carries each record's own topic and append time, however records interleave", () => {
    const records = [
      record("a", 1, 1_000),
      record("a", 2, 1_000),
      record('b"q', 1, 1_000),
      record("a", 3, 1_000),
      record("a", 4, 2_000),
      record("a", 5, 1_000),
    ];
    expect(records.map(toStoredEvent)).toEqual(
      records.map((r) => ({
        offset: r.offset,
        topic: r.topic,
        appendedat: new Date(r.appendedAt).toISOString(),
        id: `e${r.offset}`,
        source: "/s",
      })),
    );
  });
});
