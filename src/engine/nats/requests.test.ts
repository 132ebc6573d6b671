import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { Inbox } from "./inbox.js";
import { Publisher } from "./publisher.js";
import { requestAll } from "./requests.js";

/** A connection that takes every publish and never answers: each reply times out. */
const silent = { publish: () => undefined, info: undefined } as unknown as NatsConnection;
const inbox = {
  open: () => ({ subject: "_INBOX.test", close: () => undefined }),
} as unknown as Inbox;

describe("requests whose replies never come", () => {
  it("are undefined entries that forEach and map visit, not holes", async () => {
    const replies = await requestAll(silent, inbox, [{ subject: "a" }, { subject: "b" }], 20);
    expect(replies).toHaveLength(2);
    let visited = 0;
    replies.forEach(() => {
      visited++;
    });
    expect(visited).toBe(2);
  });

  it("fail every unconfirmed publish instead of dropping it from the results", async () => {
    const publisher = new Publisher(silent, inbox, 20);
    const items = [1, 2, 3].map((n) => ({ body: `{"n":${n}}`, key: null, msgId: `m${n}` }));
    const outcomes = await publisher.publish("SY.t.x", items);
    expect(outcomes.map((o) => o.kind)).toEqual(["failed", "failed", "failed"]);
  });
});
