import { describe, expect, it } from "vitest";
import {
  parseBytes,
  parseDuration,
  parseInteger,
  parsePairs,
  parsePosition,
  parseRate,
} from "./parse.js";

describe("parse", () => {
  it("reads durations and sizes with units", () => {
    expect(
      ["500ms", "30s", "5m", "2h", "7d", "1500", "1.5s"].map((v) => parseDuration(v, "--x")),
    ).toEqual([500, 30_000, 300_000, 7_200_000, 604_800_000, 1_500, 1_500]);
    expect(["1048576", "512KiB", "16MiB", "10GB", "1kb"].map((v) => parseBytes(v, "--x"))).toEqual([
      1_048_576, 524_288, 16_777_216, 10_000_000_000, 1_000,
    ]);
    expect(() => parseDuration("soon", "--ack-timeout")).toThrow(
      /--ack-timeout "soon" is not a duration/,
    );
    expect(() => parseBytes("12 parsecs", "--max")).toThrow(/is not a size/);
  });

  it("reads bounded whole numbers", () => {
    expect(parseInteger("42", "--n", 1)).toBe(42);
    expect(() => parseInteger("0", "--n", 1)).toThrow(/from 1/);
    expect(() => parseInteger("1e3", "--n")).toThrow(/whole number/);
  });

  it("reads positive rates, fractions included", () => {
    expect(["100", "0.5", " 2.25 "].map((v) => parseRate(v, "--rps"))).toEqual([100, 0.5, 2.25]);
    for (const bad of ["0", "-1", "1e3", "fast", "", "0.0"])
      expect(() => parseRate(bad, "--rps"), bad).toThrow(/--rps .* is not a positive number/);
  });

  it("reads positions: earliest, latest, offsets and times", () => {
    expect(parsePosition("earliest", "to")).toBe("earliest");
    expect(parsePosition("42", "to")).toEqual({ offset: 42 });
    expect(parsePosition("2026-11-23T10:00:00Z", "to")).toEqual({
      time: "2026-11-23T10:00:00.000Z",
    });
    expect(() => parsePosition("yesterday-ish", "to")).toThrow(
      /not earliest, latest, an offset or a time/,
    );
  });

  it("reads name=value pairs", () => {
    expect(parsePairs(["a=1", "b=x=y"], "--attr")).toEqual({ a: "1", b: "x=y" });
    expect(() => parsePairs(["novalue"], "--attr")).toThrow(/name=value/);
  });
});
