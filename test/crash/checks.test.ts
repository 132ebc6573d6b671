// The crash test's checks must be able to fail: each breach below is one they exist to catch.
import { describe, expect, it } from "vitest";
import { checkDeliveries, checkLog, type LogEntry } from "./checks.js";
import type { Observed } from "./consumer.js";
import type { Confirmed } from "./producer.js";

const entry = (offset: number, key: string, seq: number): LogEntry => ({
  id: `e${offset}`,
  offset,
  key,
  seq,
});
const log: LogEntry[] = [entry(1, "a", 0), entry(2, "b", 0), entry(3, "a", 1), entry(4, "a", 2)];
const confirmed: Confirmed[] = log.map((e) => ({ ...e }));
const seen = (e: LogEntry, attempt = 1): Observed => ({ ...e, attempt });
const [a0, b0, a1, a2] = log as [LogEntry, LogEntry, LogEntry, LogEntry];

describe("crash checks: the log", () => {
  it("accept a log holding each confirmed event once, keys in order", () => {
    expect(checkLog(log, confirmed)).toEqual([]);
  });

  it("catch a duplicate, a missing 201, a stranger, a wrong offset and a key out of order", () => {
    expect(checkLog([...log, { ...a2, offset: 5 }], confirmed).join()).toContain(
      "in the log 2 times",
    );
    expect(checkLog(log.slice(0, 3), confirmed).join()).toContain("e4 was answered 201");
    expect(checkLog(log, confirmed.slice(0, 3)).join()).toContain("never answered 201");
    expect(checkLog(log, [...confirmed.slice(0, 3), { ...a2, offset: 9 }]).join()).toContain(
      "answered offset 9",
    );
    expect(
      checkLog(
        [a0, b0, a2, a1].map((e, i) => ({ ...e, offset: i + 1 })),
        confirmed,
      ).join(),
    ).toContain("key a");
  });
});

describe("crash checks: deliveries", () => {
  it("accept redeliveries that repeat a key's latest event", () => {
    const observed = [seen(a0), seen(b0), seen(a0, 2), seen(a1), seen(a2), seen(a2, 2)];
    expect(checkDeliveries(log, observed)).toEqual([]);
  });

  it("catch an undelivered event, a key going back, and first deliveries out of order", () => {
    expect(checkDeliveries(log, [seen(a0), seen(a1), seen(a2)]).join()).toContain(
      "e2 (offset 2) was never delivered",
    );
    expect(
      checkDeliveries(log, [seen(a0), seen(b0), seen(a1), seen(a0, 2), seen(a2)]).join(),
    ).toContain("offset 1 (attempt 2) delivered after offset 3");
    expect(checkDeliveries(log, [seen(b0), seen(a1), seen(a0), seen(a2)]).join()).toContain(
      "not the key's log order",
    );
  });
});
