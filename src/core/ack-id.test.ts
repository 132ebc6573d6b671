import { describe, expect, it } from "vitest";
import { decodeAckId, encodeAckId } from "./ack-id.js";

describe("ackIds", () => {
  it("round-trips", () => {
    const parts = { epoch: 3, offset: 9_007_199_254_740_991, lease: 123_456 };
    expect(decodeAckId(encodeAckId(parts))).toEqual(parts);
    expect(decodeAckId(encodeAckId({ epoch: 0, offset: 1, lease: 1 }))).toEqual({
      epoch: 0,
      offset: 1,
      lease: 1,
    });
  });

  it.each([
    "",
    "abc",
    "1.2",
    "1.2.3.4",
    "1.0.1",
    "1.1.0",
    "-1.1.1",
    "A.1.1",
    "1.zzzzzzzzzzz.1",
    "1.1.1 ",
    42,
    null,
  ])("refuses %j", (ackId) => {
    expect(decodeAckId(ackId)).toBeNull();
  });
});
