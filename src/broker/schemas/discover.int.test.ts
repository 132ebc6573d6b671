/**
 * Schema discovery over a real log on both engines: the newest events of the type, read
 * backwards in windows, non-JSON data skipped and counted, bounds on samples and on events
 * looked at, and the request's errors.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineCase, engineCases } from "../../../test/support/engine-cases.js";
import { SwitchyardError } from "../../core/errors.js";
import { SecretKeyRing } from "../../core/secret-box.js";
import { Broker } from "../broker.js";
import { discoverSchema, INFER_LIMITS } from "./discover.js";

const cases = engineCases("IN");

let seq = 0;
function event(type: string, extra: Record<string, unknown>) {
  return { specversion: "1.0", id: `e${seq++}`, source: "/infer", type, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SwitchyardError) return error;
    throw error;
  }
  throw new Error("resolved");
}

for (const c of cases)
  describe.runIf(c.available)(`schema discovery (${c.name})`, () => {
    let opened: Awaited<ReturnType<EngineCase["open"]>> | undefined;
    let broker: Broker;
    const topic = `infer-${randomBytes(3).toString("hex")}`;
    beforeAll(async () => {
      opened = await c.open();
      await opened.engine.ready();
      broker = new Broker({ engine: opened.engine, secretKeys: SecretKeyRing.generate() });
      await broker.putTopic(topic, {});
      // 600 older events of the type with { n }, other types between them, then 100 newer
      // ones with { n, note }: the newest 100 have `note` everywhere, the newest 101 do not.
      const batch = [];
      for (let i = 0; i < 600; i++) {
        batch.push(event("order.placed", { data: { n: i } }));
        if (i % 3 === 0) batch.push(event("order.other", { data: { other: true } }));
      }
      await broker.publish(topic, batch, true);
      const newer = Array.from({ length: 100 }, (_, i) =>
        event("order.placed", { data: { n: i, note: "x" } }),
      );
      await broker.publish(topic, newer, true);
    }, 60_000);
    afterAll(async () => opened?.dispose());

    it("infers from the newest events of the type, across backward windows", async () => {
      const newest = await broker.inferSchema("order.placed", { topic, limit: 100 });
      expect(newest).toMatchObject({ samples: 100, skipped: 0, scanned: 100 });
      expect(newest.schema).toMatchObject({ required: ["n", "note"] });
      const one = await broker.inferSchema("order.placed", { topic, limit: 101 });
      expect(one.samples).toBe(101);
      expect(one.schema).toMatchObject({ required: ["n"] });
      // The default limit: 1000, more than there are; all 700 of them, every event looked at.
      const all = await broker.inferSchema("order.placed", { topic });
      expect(all).toMatchObject({ samples: 700, scanned: 900 });
      expect(all.schema).toMatchObject({
        type: "object",
        properties: { n: { type: "integer" }, note: { type: "string" } },
        required: ["n"],
        additionalProperties: false,
      });
    });

    it("skips and counts data that is not JSON", async () => {
      const mixed = `${topic}-mixed`;
      await broker.putTopic(mixed, {});
      await broker.publish(
        mixed,
        [
          event("t", { data: { a: 1 } }),
          event("t", { data_base64: "AAEC" }),
          event("t", { datacontenttype: "text/plain", data: "hello" }),
          event("t", {}),
          event("t", { datacontenttype: "application/vnd.x+json; charset=utf-8", data: [1] }),
        ],
        true,
      );
      const found = await broker.inferSchema("t", { topic: mixed });
      expect(found).toMatchObject({ samples: 2, skipped: 3, scanned: 5 });
      expect(found.schema).toMatchObject({ type: ["object", "array"] });
    });

    it("looks at a bounded number of events", async () => {
      if (opened === undefined) throw new Error("opened in beforeAll");
      const limits = { ...INFER_LIMITS, maxScanned: 150 };
      const found = await discoverSchema(opened.engine.log, "order.other", { topic }, limits);
      // The newest 100 are all order.placed; the 50 before them hold a few order.other.
      expect(found.scanned).toBe(150);
      expect(found.samples).toBeGreaterThan(0);
      expect(found.samples).toBeLessThan(50);
      const none = await failure(
        discoverSchema(
          opened.engine.log,
          "order.other",
          { topic, limit: 5 },
          {
            ...limits,
            maxScanned: 100,
          },
        ),
      );
      expect(none.code).toBe("invalid_request");
      expect(none.errors).toEqual([
        { pointer: "/topic", message: expect.stringContaining("no recent event") },
      ]);
    });

    it("refuses bad requests and unknown topics; registers nothing", async () => {
      const pointers = async (type: string, body: unknown) =>
        (await failure(broker.inferSchema(type, body))).errors.map((e) => e.pointer);
      expect(await pointers("t", {})).toEqual(["/topic"]);
      expect(await pointers("t", { topic, limit: 0 })).toEqual(["/limit"]);
      expect(await pointers("t", { topic, limit: 10_001 })).toEqual(["/limit"]);
      expect(await pointers("t", { topic, limit: 1.5 })).toEqual(["/limit"]);
      expect(await pointers("t", { topic, extra: 1 })).toEqual(["/extra"]);
      expect(await pointers("t", { topic: "a b" })).toEqual(["/topic"]);
      expect(await pointers("not a type", { topic })).toEqual(["path:type"]);
      expect(await pointers("t", [])).toEqual([""]);
      const unknown = await failure(broker.inferSchema("t", { topic: `${topic}-none` }));
      expect(unknown.code).toBe("topic_not_found");
      expect(unknown.errors).toEqual([{ pointer: "/topic", message: "no such topic" }]);
      // Never created by asking, even where publishing would create it.
      expect((await broker.listTopics()).map((t) => t.name)).not.toContain(`${topic}-none`);
    });
  });
