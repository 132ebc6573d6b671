import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCount,
  formatDuration,
  painter,
  progressBar,
  renderTable,
} from "./output.js";

describe("output", () => {
  it("formats sizes in binary units", () => {
    expect([0, 1023, 1536, 16 * 1024 * 1024, 5 * 1024 ** 4].map(formatBytes)).toEqual([
      "0 B",
      "1023 B",
      "1.5 KiB",
      "16.0 MiB",
      "5.0 TiB",
    ]);
  });

  it("formats counts and durations for people", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(
      [950, 1_234, 30_000, 12_300, 200_000, 3_600_000, 90_000_000].map(formatDuration),
    ).toEqual(["950 ms", "1.23 s", "30 s", "12.3 s", "3m 20s", "1h", "1d 1h"]);
  });

  it("pads table columns and right-aligns numbers", () => {
    const rows = [
      { name: "orders", n: 5 },
      { name: "a", n: 12345 },
    ];
    const table = renderTable(rows, [
      { header: "TOPIC", value: (r) => r.name },
      { header: "EVENTS", value: (r) => String(r.n), align: "right" },
    ]);
    expect(table.split("\n")).toEqual(["TOPIC   EVENTS", "orders       5", "a        12345"]);
  });

  it("draws progress bars and colours only on terminals without NO_COLOR", () => {
    expect(progressBar(0.5, 10)).toBe("[#####-----]");
    expect(progressBar(7, 4)).toBe("[####]");
    expect(painter({ write: () => true, isTTY: true }, {})("red", "x")).toBe("\x1b[31mx\x1b[0m");
    expect(painter({ write: () => true, isTTY: true }, { NO_COLOR: "1" })("red", "x")).toBe("x");
    expect(painter({ write: () => true }, {})("red", "x")).toBe("x");
  });
});
