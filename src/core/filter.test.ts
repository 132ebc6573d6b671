import { describe, expect, it } from "vitest";
import { SwitchyardError } from "./errors.js";
import { compileFilter, parseFilter } from "./filter.js";

const order = {
  specversion: "1.0",
  id: "1",
  source: "/shop",
  type: "com.shop.order.placed",
  subject: "orders/17",
  data: { total: 42, customer: { tier: "gold", email: "a@example.com" } },
};

function matches(filter: unknown, event: Record<string, unknown> = order): boolean {
  return compileFilter(parseFilter(filter))(event);
}

describe("filters", () => {
  it("matches exact, prefix and suffix over attributes", () => {
    expect(matches({ exact: { type: "com.shop.order.placed" } })).toBe(true);
    expect(matches({ exact: { type: "com.shop.order" } })).toBe(false);
    expect(matches({ prefix: { type: "com.shop." } })).toBe(true);
    expect(matches({ suffix: { subject: "/17" } })).toBe(true);
    expect(matches({ suffix: { subject: "/18" } })).toBe(false);
  });

  it("reads dotted data paths and compares values as strings", () => {
    expect(matches({ exact: { "data.total": "42" } })).toBe(true);
    expect(matches({ exact: { "data.customer.tier": "gold" } })).toBe(true);
    expect(matches({ suffix: { "data.customer.email": "@example.com" } })).toBe(true);
    expect(matches({ exact: { "data.customer": "gold" } })).toBe(false);
    expect(matches({ exact: { "data.missing.deep": "x" } })).toBe(false);
  });

  it("requires every attribute of one dialect to match", () => {
    expect(matches({ exact: { type: "com.shop.order.placed", source: "/shop" } })).toBe(true);
    expect(matches({ exact: { type: "com.shop.order.placed", source: "/other" } })).toBe(false);
  });

  it("treats a missing attribute as no match, also under prefix", () => {
    expect(matches({ prefix: { partitionkey: "" } })).toBe(false);
    expect(matches({ not: { exact: { partitionkey: "k" } } })).toBe(true);
  });

  it("combines with all, any and not", () => {
    const gold = { exact: { "data.customer.tier": "gold" } };
    const big = { exact: { "data.total": "1000" } };
    expect(matches({ all: [gold, { prefix: { type: "com.shop" } }] })).toBe(true);
    expect(matches({ all: [gold, big] })).toBe(false);
    expect(matches({ any: [big, gold] })).toBe(true);
    expect(matches({ not: big })).toBe(true);
  });

  it("matches everything without a filter", () => {
    expect(compileFilter(null)(order)).toBe(true);
  });

  it.each([
    [{}, "/filter"],
    [{ exact: {}, prefix: {} }, "/filter"],
    [{ regex: { type: "." } }, "/filter/regex"],
    [{ exact: { type: 1 } }, "/filter/exact/type"],
    [{ exact: {} }, "/filter/exact"],
    [{ all: [] }, "/filter/all"],
    [{ any: [{ exact: { a: "b" } }, "nope"] }, "/filter/any/1"],
    [{ not: { suffix: [] } }, "/filter/not/suffix"],
  ])("rejects %j with a pointer to %s", (input, pointer) => {
    try {
      parseFilter(input);
      expect.unreachable("parseFilter accepted an invalid filter");
    } catch (error) {
      expect(error).toBeInstanceOf(SwitchyardError);
      const e = error as SwitchyardError;
      expect(e.code).toBe("invalid_filter");
      expect(e.errors.map((x) => x.pointer)).toContain(pointer);
    }
  });

  it("refuses filters nested absurdly deep", () => {
    let filter: unknown = { exact: { type: "x" } };
    for (let i = 0; i < 40; i++) filter = { not: filter };
    expect(() => parseFilter(filter)).toThrow(SwitchyardError);
  });
});
