import { describe, expect, it } from "vitest";
import { SwitchyardError } from "./errors.js";
import { assertCloudEvent, cloudEventErrors, partitionKeyOf } from "./event.js";
import { storedEventJson, toStoredEvent } from "./stored-event.js";

const valid = { specversion: "1.0", id: "e1", source: "/shop", type: "order.placed", data: {} };

describe("CloudEvent validation", () => {
  it("accepts a minimal event and one without id or time (the router fills them)", () => {
    expect(cloudEventErrors(valid)).toEqual([]);
    const { id: _, ...withoutId } = valid;
    expect(cloudEventErrors(withoutId)).toEqual([]);
  });

  it.each([
    [{ ...valid, specversion: "0.3" }, "/specversion"],
    [{ ...valid, specversion: undefined }, "/specversion"],
    [{ ...valid, source: "" }, "/source"],
    [{ ...valid, type: 7 }, "/type"],
    [{ ...valid, id: "" }, "/id"],
    [{ ...valid, time: "yesterday" }, "/time"],
    [{ ...valid, Bad: "x" }, "/Bad"],
    [{ ...valid, waytoolongextensionname1: "x" }, "/waytoolongextensionname1"],
    [{ ...valid, ext: { nested: true } }, "/ext"],
    [{ ...valid, data_base64: "AA==" }, "/data_base64"],
  ])("reports %j at %s", (event, pointer) => {
    expect(cloudEventErrors(event).map((e) => e.pointer)).toContain(pointer);
  });

  it("prefixes pointers with the event's place in a batch", () => {
    expect(cloudEventErrors({ ...valid, type: undefined }, "/3")).toEqual([
      { pointer: "/3/type", message: "is required" },
    ]);
  });

  it("refuses the router's reserved attribute names with their own code", () => {
    for (const name of ["offset", "topic", "appendedat"]) {
      try {
        assertCloudEvent({ ...valid, [name]: 1 });
        expect.unreachable(`${name} was accepted`);
      } catch (error) {
        expect((error as SwitchyardError).code).toBe("reserved_attribute");
      }
    }
  });

  it("refuses non-objects", () => {
    expect(() => assertCloudEvent([valid])).toThrow(SwitchyardError);
    expect(() => assertCloudEvent("event")).toThrow(SwitchyardError);
  });

  it("reads the partition key as a string", () => {
    expect(partitionKeyOf({ ...valid, specversion: "1.0", partitionkey: "c-1" })).toBe("c-1");
    expect(partitionKeyOf({ ...valid, specversion: "1.0", partitionkey: 7 })).toBe("7");
    expect(partitionKeyOf({ ...valid, specversion: "1.0" })).toBeNull();
  });
});

describe("stored events", () => {
  it("splices router metadata into the event's JSON", () => {
    const record = {
      topic: "orders",
      offset: 12,
      appendedAt: Date.parse("2026-11-23T10:00:00.000Z"),
      key: null,
      body: JSON.stringify(valid),
    };
    const json = storedEventJson(record);
    expect(JSON.parse(json)).toEqual({
      ...valid,
      offset: 12,
      topic: "orders",
      appendedat: "2026-11-23T10:00:00.000Z",
    });
    expect(toStoredEvent(record).offset).toBe(12);
  });
});
