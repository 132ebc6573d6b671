import { describe, expect, it } from "vitest";
import { escapeName } from "./names.js";
import { eventMsgId } from "./publisher.js";
import { ackSubject, parseAckSubject } from "./records.js";

describe("JetStream ack subjects", () => {
  it("parse the nats-server 2.9 form and the form with domain and account hash", () => {
    const v1 = parseAckSubject("$JS.ACK.S_T_x.sub-t1.3.42.7.1795437419498933278.5");
    expect(v1).toEqual({
      stream: "S_T_x",
      consumer: "sub-t1",
      deliveries: 3,
      streamSeq: 42,
      consumerSeq: 7,
      timestampMs: 1795437419498,
    });
    const v2 = parseAckSubject("$JS.ACK.hub.ACCHASH.S_T_x.sub-t1.3.42.7.1795437419498933278.5.tok");
    expect(v2).toEqual(v1);
    expect(parseAckSubject("inbox.1")).toBeNull();
  });

  it("rebuild a subject the server reads the same way", () => {
    const subject = ackSubject({
      stream: "S",
      consumer: "c",
      deliveries: 2,
      streamSeq: 9,
      consumerSeq: 4,
    });
    expect(parseAckSubject(subject)).toMatchObject({ deliveries: 2, streamSeq: 9, consumerSeq: 4 });
  });
});

describe("names and ids", () => {
  it("escape topic names one-to-one into stream-safe names", () => {
    const names = ["a.b", "a_b", "a._b", "a_.b", "a__b", "a..b", ".a", "a-b"];
    const escaped = names.map(escapeName);
    expect(new Set(escaped).size).toBe(names.length);
    for (const e of escaped) expect(e).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("give every (source, id) pair its own Nats-Msg-Id", () => {
    expect(eventMsgId("/a", "b/c")).not.toBe(eventMsgId("/a/b", "c"));
    expect(eventMsgId("/a", "1")).toBe(eventMsgId("/a", "1"));
    expect(eventMsgId("/ü", "x\r\n")).toMatch(/^#[A-Za-z0-9_-]+$/);
  });
});
