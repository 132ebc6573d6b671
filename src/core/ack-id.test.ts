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

  it("decodes the largest safe integers and 11-digit parts", () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(decodeAckId(`${max.toString(36)}.${max.toString(36)}.1`)).toEqual({
      epoch: max,
      offset: max,
      lease: 1,
    });
    expect(decodeAckId("0.10000000000.z")).toEqual({ epoch: 0, offset: 36 ** 10, lease: 35 });
    expect(decodeAckId(`${(max + 1).toString(36)}.1.1`)).toBeNull();
  });

  it("round-trips the optional fourth part", () => {
    const parts = { epoch: 1, offset: 7, lease: 2, ref: 99 };
    expect(encodeAckId(parts)).toBe("1.7.2.2r");
    expect(decodeAckId(encodeAckId(parts))).toEqual(parts);
    expect(decodeAckId("1.2.3.4")).toEqual({ epoch: 1, offset: 2, lease: 3, ref: 4 });
  });

  it.each([
    "",
    "abc",
    "1.2",
    "1.2.3.0",
    "1.2.3.4.5",
    "1.0.1",
    "1.1.0",
    "-1.1.1",
    "A.1.1",
    "1.zzzzzzzzzzz.1",
    "1.1.1 ",
    "1..1",
    ".1.1",
    "1.1.1.",
    "1.1.1.1.",
    "1.1.1/",
    "1.1.1:",
    "1.1.1`",
    "1.1.1{",
    "zzzzzzzzzzz.1.1",
    "1.1.aaaaaaaaaaaa",
    42,
    null,
  ])("refuses %j", (ackId) => {
    expect(decodeAckId(ackId)).toBeNull();
  });
});
