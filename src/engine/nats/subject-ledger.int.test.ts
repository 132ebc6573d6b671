/**
 * The crash windows of the subject ledger (docs/scale-out.md "Subject streams"), played on
 * one server by writing what a node lost part way would have left: a reservation alone (lost
 * after step 1), and a reservation whose event was already appended (lost after step 2). The
 * next append to that subject must roll it forward: the kept event stored exactly once, at
 * the reserved version, and no version skipped. And a read from a version costs what it
 * returns, not the whole ledger.
 */
import { createHash, randomBytes } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { oneServerEngine } from "../../../test/support/nats-engine.js";
import { natsServerAvailable } from "../../../test/support/nats-server.js";
import { SwitchyardError } from "../../core/errors.js";
import { eventOf, newEvent, topicConfig } from "../conformance/fixtures.js";
import { NatsEngine } from "./index.js";
import { escapeName } from "./names.js";
import { eventMsgId } from "./publisher.js";

let serial = 0;
const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}-${++serial}`;

describe.runIf(natsServerAvailable())("NATS engine: a subject append lost part way", () => {
  const nats = oneServerEngine("L");
  const { prefix, names } = nats;

  const ledgerSubject = (topic: string, subject: string) =>
    `${prefix}.sv.${escapeName(topic)}.${createHash("sha256").update(subject).digest("hex").slice(0, 32)}`;

  async function reserve(topic: string, subject: string, event: ReturnType<typeof newEvent>) {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", "0");
    const entry = { k: "r", v: 1, m: eventMsgId(event.source, event.id), b: event.body, key: null };
    await jetstream(nats.raw).publish(ledgerSubject(topic, subject), JSON.stringify(entry), {
      headers: h,
    });
  }

  async function conflictVersion(action: Promise<unknown>): Promise<number> {
    const error = await action.then(
      () => new Error("expected version_conflict"),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SwitchyardError);
    expect((error as SwitchyardError).code).toBe("version_conflict");
    return Number((error as SwitchyardError).details?.currentVersion);
  }

  for (const stored of [false, true])
    it(`rolls a reservation forward when the node was lost ${stored ? "after appending the event" : "before appending the event"}`, async () => {
      const topic = unique("t");
      await nats.engine.log.putTopic(topicConfig(topic, { indexes: ["subject"] }));
      const subject = unique("order");
      const kept = newEvent({ id: "kept", extensions: { subject } });
      await reserve(topic, subject, kept);
      if (stored) {
        const h = headers();
        h.set("Nats-Msg-Id", eventMsgId(kept.source, kept.id));
        h.set("Sy-Subject-Version", "1");
        await jetstream(nats.raw).publish(names.topicSubject(topic), kept.body, { headers: h });
      }
      // A writer that saw no stream yet finds the rolled-forward version instead.
      const next = newEvent({ id: "next", extensions: { subject } });
      expect(
        await conflictVersion(nats.engine.log.append(topic, [next], { expectedVersion: 0 })),
      ).toBe(1);
      expect(await nats.engine.log.append(topic, [next], { expectedVersion: 1 })).toEqual([
        { offset: 2, duplicate: false, subjectVersion: 2 },
      ]);
      const page = await nats.engine.log.readSubject(topic, subject, 1, 10);
      expect(page.records.map((r) => [eventOf(r).id, r.subjectVersion, r.offset])).toEqual([
        ["kept", 1, 1],
        ["next", 2, 2],
      ]);
      expect((await nats.engine.log.stats(topic)).lastOffset).toBe(2);
      // The writer of the lost append retries it: a duplicate, not a second copy.
      expect(await nats.engine.log.append(topic, [kept], { expectedVersion: 0 })).toEqual([
        { offset: 1, duplicate: true, subjectVersion: 1 },
      ]);
    });

  it("reads from a version without reading the ledger before it", async () => {
    const topic = unique("t");
    await nats.engine.log.putTopic(topicConfig(topic, { indexes: ["subject"] }));
    const subject = unique("long");
    for (let chunk = 0; chunk < 4; chunk++)
      await nats.engine.log.append(
        topic,
        Array.from({ length: 100 }, (_, i) => [
          newEvent({ id: `s${chunk * 100 + i + 1}`, extensions: { subject } }),
          newEvent({ id: `o${chunk * 100 + i + 1}`, extensions: { subject: `${subject}-other` } }),
        ]).flat(),
      );
    // Every JetStream API request the engine makes, and every ledger entry a consumer hands
    // it, seen from a connection of our own.
    const requests: string[] = [];
    let delivered = 0;
    const spy = nats.raw.subscribe(">", {
      callback: (_, msg) => {
        if (msg.subject.startsWith("$JS.API.")) requests.push(msg.subject);
        else if (msg.reply?.startsWith(`$JS.ACK.${prefix}_SUBJECTS.`)) delivered++;
      },
    });
    const during = async (read: () => Promise<unknown>) => {
      await nats.raw.flush();
      requests.length = 0;
      delivered = 0;
      await read();
      await nats.raw.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      return {
        gets: requests.filter((r) => r.startsWith("$JS.API.STREAM.MSG.GET.")).length,
        consumers: requests.filter((r) => r.includes(".CONSUMER.CREATE.")).length,
        delivered,
      };
    };
    try {
      const cases = [
        { from: 400, limit: 1, ids: ["s400"], gets: 15, consumers: 0 },
        { from: 398, limit: 3, ids: ["s398", "s399", "s400"], gets: 30, consumers: 0 },
        {
          from: 200,
          limit: 10,
          ids: Array.from({ length: 10 }, (_, i) => `s${200 + i}`),
          gets: 50,
          consumers: 1,
        },
      ];
      for (const c of cases) {
        let page: Awaited<ReturnType<typeof nats.engine.log.readSubject>> | undefined;
        const cost = await during(async () => {
          page = await nats.engine.log.readSubject(topic, subject, c.from, c.limit);
        });
        expect(page?.records.map((r) => eventOf(r).id)).toEqual(c.ids);
        expect(page).toMatchObject({ version: 400, firstVersion: 1 });
        // The ledger holds 800 entries of this subject, a scan reads them all; a search costs
        // O(log n) requests (7, 17 and 32 when written), a page about two entries per event.
        expect(cost.delivered, `entries read from ${c.from}`).toBeLessThanOrEqual(2 * c.limit + 2);
        expect(cost.gets, `gets from ${c.from}`).toBeLessThanOrEqual(c.gets);
        expect(cost.consumers, `consumers from ${c.from}`).toBe(c.consumers);
      }
    } finally {
      spy.unsubscribe();
    }
  });

  it("lets one writer win each version across two nodes of one installation", async () => {
    const other = await NatsEngine.open({ servers: nats.url, prefix, timeoutMs: 5_000 });
    try {
      const topic = unique("t");
      await nats.engine.log.putTopic(topicConfig(topic, { indexes: ["subject"] }));
      const subject = unique("hot");
      const nodes = [nats.engine, other];
      const wins: number[] = [];
      let seen = Array.from({ length: 20 }, () => 0);
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(
          seen.map((version, w) =>
            (nodes[w % 2] as NatsEngine).log.append(
              topic,
              [newEvent({ id: `w${w}-r${round}`, extensions: { subject } })],
              { expectedVersion: version },
            ),
          ),
        );
        seen = results.map((result) => {
          if (result.status === "fulfilled") {
            const [appended] = result.value;
            const v = appended !== undefined && "offset" in appended ? appended.subjectVersion : -1;
            wins.push(v ?? -1);
            return v ?? -1;
          }
          const error = result.reason as SwitchyardError;
          expect(error.code).toBe("version_conflict");
          return Number(error.details?.currentVersion);
        });
      }
      expect([...wins].sort((a, b) => a - b)).toEqual(wins.map((_, i) => i + 1));
      expect((await nats.engine.log.stats(topic)).lastOffset).toBe(wins.length);
      expect((await other.log.readSubject(topic, subject, 1, 100)).version).toBe(wins.length);
    } finally {
      await other.close();
    }
  });
});
