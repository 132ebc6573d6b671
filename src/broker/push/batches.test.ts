import { describe, expect, it } from "vitest";
import type { Delivery } from "../../engine/engine.js";
import { chunkDeliveries } from "./batches.js";

function delivery(offset: number, bytes = 10): Delivery {
  const body = JSON.stringify({ pad: "x".repeat(Math.max(0, bytes - 10)) });
  return {
    ackId: String(offset),
    attempt: 1,
    record: { topic: "t", offset, appendedAt: 0, key: null, body },
  };
}

const offsets = (chunks: Delivery[][]) => chunks.map((c) => c.map((d) => d.record.offset));

describe("chunkDeliveries", () => {
  it("sends one event per request without batching", () => {
    expect(offsets(chunkDeliveries([delivery(1), delivery(2)], null))).toEqual([[1], [2]]);
  });

  it("splits by maxEvents and maxBytes in order; a larger event goes alone", () => {
    const batch = { maxEvents: 3, maxBytes: 100, lingerMs: 0 };
    const seven = [1, 2, 3, 4, 5, 6, 7].map((o) => delivery(o));
    expect(offsets(chunkDeliveries(seven, batch))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    const sized = [
      delivery(1, 40),
      delivery(2, 40),
      delivery(3, 40),
      delivery(4, 500),
      delivery(5, 10),
    ];
    expect(offsets(chunkDeliveries(sized, batch))).toEqual([[1, 2], [3], [4], [5]]);
  });
});
