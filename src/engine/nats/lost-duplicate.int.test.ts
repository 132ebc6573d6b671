/**
 * A dedupe answer must name a message the stream holds. After a partition, nats-server 2.10
 * was seen to remember an event's `Nats-Msg-Id` in its dedupe window while the message it
 * pointed at was gone (the partition test's long form: 22 events answered 201 that no
 * replica held). Played here on one server by deleting the message behind the engine's back:
 * its dedupe entry stays, so a retry of the event gets JetStream's "duplicate" for a
 * sequence that holds nothing. (A sequence reused by another event is caught the same way:
 * the check compares the stored event's `source` and `id`.)
 */
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import { eventOf, newEvent, topicConfig } from "../conformance/fixtures.js";

let serial = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++serial}`;

describe.runIf(natsServerAvailable())("NATS engine: a duplicate whose original is lost", () => {
  const nats = oneServerEngine("D");
  const { names } = nats;

  const ids = async (topic: string) =>
    (await nats.engine.log.read(topic, { offset: 1 }, 100)).records.map((r) => [
      r.offset,
      eventOf(r).id,
    ]);

  it("stores the event again, once, when the sequence JetStream names holds nothing", async () => {
    const topic = unique("t");
    await nats.engine.log.putTopic(topicConfig(topic));
    const lostOne = newEvent({ id: "lost-1" });
    const [first] = await nats.engine.log.append(topic, [newEvent({ id: "before" }), lostOne]);
    expect(first).toEqual({ offset: 1, duplicate: false });
    const jsm = await jetstreamManager(nats.raw);
    expect(await jsm.streams.deleteMessage(names.topicStream(topic), 2)).toBe(true);

    const retried = await nats.engine.log.append(topic, [lostOne]);
    expect(retried).toEqual([{ offset: 3, duplicate: false }]);
    // A further retry dedupes against the copy: one event, never a third.
    expect(await nats.engine.log.append(topic, [lostOne])).toEqual([
      { offset: 3, duplicate: true },
    ]);
    expect(await ids(topic)).toEqual([
      [1, "before"],
      [3, "lost-1"],
    ]);
  });

  it("stores the event again when the original was purged, as SQLite does after retention", async () => {
    const topic = unique("t");
    await nats.engine.log.putTopic(topicConfig(topic));
    const lostOne = newEvent({ id: "lost-2" });
    await nats.engine.log.append(topic, [lostOne]);
    const jsm = await jetstreamManager(nats.raw);
    const stream = names.topicStream(topic);
    // The purge leaves the dedupe window remembering sequence 1.
    await jsm.streams.purge(stream);
    const js = (await import("@nats-io/jetstream")).jetstream(nats.raw);
    const other = newEvent({ id: "someone-else" });
    await js.publish(names.topicSubject(topic), other.body, { expect: {} });
    const info = await jsm.streams.info(stream);
    expect(info.state.last_seq).toBe(2);

    const [retried] = await nats.engine.log.append(topic, [lostOne]);
    expect(retried).toEqual({ offset: 3, duplicate: false });
    expect((await ids(topic)).map(([, id]) => id)).toEqual(["someone-else", "lost-2"]);
  });

  it("keeps true duplicates as they were: one read of the original, same offset", async () => {
    const topic = unique("t");
    await nats.engine.log.putTopic(topicConfig(topic));
    const event = newEvent({ id: "kept" });
    expect(await nats.engine.log.append(topic, [event])).toEqual([{ offset: 1, duplicate: false }]);
    expect(await nats.engine.log.append(topic, [event])).toEqual([{ offset: 1, duplicate: true }]);
    expect(await ids(topic)).toEqual([[1, "kept"]]);
  });
});
