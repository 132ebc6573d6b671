import { describe, expect, it } from "vitest";
import { BrokerMetrics, type FamilySpec, type MetricsFactory } from "./metrics.js";

/** A factory that counts the series it is asked for and sums what they receive. */
function recordingFactory() {
  const made: string[] = [];
  const totals = new Map<string, number>();
  const child = (key: string) => ({
    inc: (n = 1) => totals.set(key, (totals.get(key) ?? 0) + n),
    observe: (v: number) => totals.set(key, (totals.get(key) ?? 0) + v),
  });
  const family =
    (spec: FamilySpec) =>
    (...values: string[]) => {
      const key = `${spec.name}{${values.join(",")}}`;
      made.push(key);
      return child(key);
    };
  const factory: MetricsFactory = { counter: family, histogram: family };
  return { factory, made, totals };
}

describe("BrokerMetrics", () => {
  it("asks the factory for a series once per label value, then only increments it", () => {
    const { factory, made, totals } = recordingFactory();
    const m = new BrokerMetrics(factory);
    for (let i = 0; i < 1_000; i++) {
      m.acks.add("orders-billing");
      m.deliveryLatency.observe("orders-billing", 0.5);
      m.schemaViolations.add("orders", "data");
    }
    m.acks.add("other", 3);
    expect(made).toEqual([
      "switchyard_acks_total{orders-billing}",
      "switchyard_delivery_latency_seconds{orders-billing}",
      "switchyard_schema_violations_total{orders,data}",
      "switchyard_acks_total{other}",
    ]);
    expect(totals.get("switchyard_acks_total{orders-billing}")).toBe(1_000);
    expect(totals.get("switchyard_acks_total{other}")).toBe(3);
    expect(totals.get("switchyard_delivery_latency_seconds{orders-billing}")).toBe(500);
    expect(totals.get("switchyard_schema_violations_total{orders,data}")).toBe(1_000);
  });

  it("counts nothing, and fails nothing, without a factory", () => {
    const m = new BrokerMetrics();
    expect(() => m.publishedEvents.add("t", 2)).not.toThrow();
  });
});
