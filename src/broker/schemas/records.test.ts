import { describe, expect, it } from "vitest";
import { CATALOG_KEY_PATTERN } from "../../engine/engine.js";
import { canonicalJson, jsonEqual } from "./canonical.js";
import { configKey, decodeRecord, parseKey, typePrefix, versionKey } from "./records.js";

describe("registry records in the Catalog", () => {
  const types = [".lead", "trail.", "dou..ble", "a.b", "a-b_c", "x".repeat(200), "..."];

  it("every valid type gives valid, distinct keys that decode back to it", () => {
    const keys = new Set<string>();
    for (const type of types) {
      for (const key of [versionKey(type, 1), versionKey(type, 2 ** 40), configKey(type)]) {
        expect(key, key).toMatch(CATALOG_KEY_PATTERN);
        keys.add(key);
      }
      expect(parseKey(versionKey(type, 7))).toEqual({ type, version: 7 });
      expect(parseKey(configKey(type))).toEqual({ type, version: null });
      expect(`${typePrefix(type)}x`).toMatch(CATALOG_KEY_PATTERN);
    }
    expect(keys.size).toBe(types.length * 3);
    // One type's prefix never starts another type's keys.
    expect(versionKey("a.bc", 1).startsWith(typePrefix("a.b"))).toBe(false);
  });

  it("decodes versions and configs, and refuses what it cannot read", () => {
    expect(decodeRecord(versionKey("a.b", 3), { schema: true, createdAt: 5 })).toEqual({
      record: "version",
      type: "a.b",
      version: 3,
      schema: true,
      createdAt: 5,
    });
    expect(decodeRecord(configKey("a"), { compatibility: "FULL", updatedAt: 1 })).toMatchObject({
      record: "config",
      compatibility: "FULL",
    });
    expect(decodeRecord(configKey("a"), { compatibility: "SOMETIMES" })).toBeUndefined();
    expect(decodeRecord(versionKey("a", 1), { schema: [1] })).toBeUndefined();
    expect(decodeRecord(versionKey("a", 1), { schema: null })).toBeUndefined();
    expect(decodeRecord("a/versions/0", { schema: true })).toBeUndefined();
    expect(decodeRecord("a/other", { schema: true })).toBeUndefined();
  });
});

describe("canonical JSON", () => {
  it("ignores key order and layout, not array order or values", () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 0 }], a: "x" })).toBe(
      '{"a":"x","b":[2,{"c":0,"d":1}]}',
    );
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ required: ["a", "b"] }, { required: ["b", "a"] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: "1" })).toBe(false);
    expect(jsonEqual(true, {})).toBe(false);
  });
});
