/**
 * The pure parts of `bench:peers`: ratios to the best peer at equal durability, the rows of
 * the report (unmeasured peers included), the table, the docs section and the SVG chart.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioResult } from "../../bench/harness.ts";
import {
  peersSection,
  peersTable,
  replaceSection,
  SECTION_END,
  SECTION_START,
} from "../../bench/peers/format.ts";
import type { PeerRow, PeerStatus, PeersReport } from "../../bench/peers/model.ts";
import { type Figure, formatRatio, ratiosToBest } from "../../bench/peers/ratio.ts";
import { toRows } from "../../bench/peers/rows.ts";
import { escapeXml, peersSvg } from "../../bench/peers/svg.ts";
import type { Scenario } from "../../bench/scenarios/scenario.ts";

const figure = (
  subject: string,
  value: number,
  durabilityClass: "sync" | "interval" = "sync",
  scenario = "publish",
  higherIsBetter = true,
): Figure => ({ scenario, subject, durabilityClass, value, higherIsBetter });

describe("ratiosToBest", () => {
  it("divides throughputs by the highest of the same scenario and durability", () => {
    const ratios = ratiosToBest([figure("a", 50), figure("b", 200), figure("c", 100)]);
    expect(ratios.map((r) => r.ratio)).toEqual([0.25, 1, 0.5]);
    expect(ratios.every((r) => r.best === "b")).toBe(true);
  });

  it("divides latencies by the lowest: the best is 1, slower ones above 1", () => {
    const ratios = ratiosToBest([
      figure("a", 3, "sync", "latency", false),
      figure("b", 1.5, "sync", "latency", false),
    ]);
    expect(ratios).toEqual([
      { ratio: 2, best: "b" },
      { ratio: 1, best: "b" },
    ]);
  });

  it("never compares across durability classes or scenarios", () => {
    const ratios = ratiosToBest([
      figure("always", 100, "sync"),
      figure("interval", 400, "interval"),
      figure("other-scenario", 1_000, "sync", "drain"),
    ]);
    expect(ratios.map((r) => r.ratio)).toEqual([1, 1, 1]);
    expect(ratios.map((r) => r.best)).toEqual(["always", "interval", "other-scenario"]);
  });

  it("leaves unmeasured figures out of the best and gives them no ratio", () => {
    const ratios = ratiosToBest([
      figure("missing", Number.NaN),
      figure("zero", 0),
      figure("a", 10),
    ]);
    expect(ratios[0]?.ratio).toBeNaN();
    expect(ratios[1]?.ratio).toBeNaN();
    expect(ratios[2]).toEqual({ ratio: 1, best: "a" });
  });

  it("has no best when nothing in the class was measured", () => {
    expect(ratiosToBest([figure("missing", Number.NaN)])).toEqual([
      { ratio: Number.NaN, best: undefined },
    ]);
  });

  it("formats ratios with two decimals and a dash when unmeasured", () => {
    expect(formatRatio(0.4567)).toBe("0.46×");
    expect(formatRatio(Number.NaN)).toBe("—");
  });
});

const scenario = (name: string, op: ">=" | "<=" = ">="): Scenario => ({
  name,
  title: `${name} title`,
  unit: op === ">=" ? "events/s" : "ms p99",
  target: { op, value: 1 },
  setup: "per-run",
  open: () => Promise.reject(new Error("not opened in this test")),
});

const result = (name: string, subject: string, value: number, error?: string): ScenarioResult => ({
  scenario: name,
  title: `${name} title`,
  subject,
  unit: "events/s",
  target: { op: ">=", value: 1 },
  runs: [],
  median: value,
  details: { systemCpuUsPerEvent: 12.34 },
  verdict: "n/a",
  ...(error === undefined ? {} : { error }),
});

const statuses: PeerStatus[] = [
  { name: "sy", durability: "fsync always", durabilityClass: "sync" },
  { name: "rabbit", durability: "publisher confirms, shared broker", durabilityClass: "sync" },
  {
    name: "redis",
    durability: "appendfsync everysec",
    durabilityClass: "interval",
    notMeasured: "/usr/bin/redis-server not found",
  },
];

describe("toRows", () => {
  const rows = toRows(
    [scenario("publish"), scenario("latency", "<=")],
    [
      {
        subject: "sy",
        results: [result("publish", "sy", 100), result("latency", "sy", 4)],
      },
      {
        subject: "rabbit",
        results: [
          result("publish", "rabbit", 50),
          result("latency", "rabbit", Number.NaN, "Error: boom\n    at stack"),
        ],
      },
    ],
    statuses,
  );

  it("has a row per scenario and system, scenario-major, unmeasured systems included", () => {
    expect(rows.map((r) => `${r.scenario}/${r.subject}`)).toEqual([
      "publish/sy",
      "publish/rabbit",
      "publish/redis",
      "latency/sy",
      "latency/rabbit",
      "latency/redis",
    ]);
  });

  it("carries each system's durability and its ratio to the best of its class", () => {
    const publishRabbit = rows[1];
    expect(publishRabbit?.durability).toBe("publisher confirms, shared broker");
    expect(publishRabbit?.ratio).toBe(0.5);
    expect(publishRabbit?.bestAtEqualDurability).toBe("sy");
    expect(rows[3]?.higherIsBetter).toBe(false);
  });

  it("says why a figure is missing: the scenario's first error line or the peer's reason", () => {
    expect(rows[4]?.notMeasured).toBe("Error: boom");
    expect(rows[2]?.notMeasured).toBe("/usr/bin/redis-server not found");
    expect(rows[0]?.notMeasured).toBeUndefined();
  });

  it("prints durability on every table row and 'not measured: why' for missing figures", () => {
    const table = peersTable(rows);
    expect(table).toHaveLength(2 + rows.length);
    for (const [i, row] of rows.entries()) expect(table[i + 2]).toContain(row.durability);
    expect(table[4]).toContain("not measured: /usr/bin/redis-server not found");
    expect(table[3]).toContain("0.50× of sy");
    expect(table[2]).toContain("1.00× (best)");
  });
});

const row = (subject: string, value: number, durabilityClass: "sync" | "interval"): PeerRow => ({
  scenario: "publish",
  title: "publish <batched>",
  unit: "events/s",
  higherIsBetter: true,
  subject,
  durability: durabilityClass === "sync" ? "fsync always" : "fsync interval",
  durabilityClass,
  value,
  ratio: value / 400,
  bestAtEqualDurability: "b",
  details: {},
  ...(Number.isFinite(value) ? {} : { notMeasured: "nats-server & co missing" }),
});

describe("peersSvg", () => {
  const svg = peersSvg(
    [row("a", 200, "sync"), row("b", 400, "sync"), row("c", Number.NaN, "interval")],
    "caption & <commit>",
  );

  it("is one svg element with its size declared", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="960"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<svg/g)).toHaveLength(1);
  });

  it("draws bars proportional to the panel's largest figure, coloured by durability", () => {
    const bars = [...svg.matchAll(/<rect x="430" y="[\d.]+" width="([\d.]+)"[^>]*fill="([^"]+)"/g)];
    expect(bars.map((m) => Number(m[1]))).toEqual([180, 360]);
    expect(bars.every((m) => m[2] === "#2f6db5")).toBe(true);
  });

  it("labels unmeasured systems instead of drawing a bar, and escapes text", () => {
    expect(svg).toContain("not measured: nats-server &amp; co missing");
    expect(svg).toContain("caption &amp; &lt;commit&gt;");
    expect(svg).toContain("publish &lt;batched&gt;");
    expect(svg).not.toMatch(/<(?!\/?(svg|rect|text|title)\b)/);
    expect(escapeXml(`a"<b>&`)).toBe("a&quot;&lt;b&gt;&amp;");
  });
});

describe("the docs section", () => {
  const report: PeersReport = {
    startedAt: "2026-12-06T20:00:00.000Z",
    finishedAt: "2026-12-06T20:09:00.000Z",
    machine: {
      cores: 2,
      cpu: "Test CPU",
      memoryGiB: 8,
      node: "v24.0.0",
      platform: "linux-x64",
      commit: "abc1234",
      loadAverage: "1.00 1.00 1.00",
    },
    quick: false,
    scale: 0.2,
    peers: statuses,
    rows: [row("a", 200, "sync")],
  };

  it("names the machine, the commit and the peers not measured, and links the chart", () => {
    const section = peersSection(report, "benchmarks-peers.svg");
    expect(section.startsWith(SECTION_START)).toBe(true);
    expect(section.endsWith(SECTION_END)).toBe(true);
    expect(section).toContain("2 cores (Test CPU)");
    expect(section).toContain("commit: abc1234");
    expect(section).toContain(
      "redis (appendfsync everysec): not measured: /usr/bin/redis-server not found",
    );
    expect(section).toContain("![bench:peers chart](benchmarks-peers.svg)");
  });

  it("warns when other work had the cores busy before the run, and only then", () => {
    expect(peersSection(report, "c.svg")).not.toContain("WARNING");
    const busy = { ...report, machine: { ...report.machine, loadAverage: "9.62 8.73 5.08" } };
    expect(peersSection(busy, "c.svg")).toContain("WARNING: the 1-minute load average");
  });

  it("replaces the previous section in place and appends one where there was none", () => {
    const doc = `# Benchmarks\n\nbefore\n\n${SECTION_START}\nold\n${SECTION_END}\n\nafter\n`;
    expect(replaceSection(doc, "NEW")).toBe("# Benchmarks\n\nbefore\n\nNEW\n\nafter\n");
    expect(replaceSection("# Benchmarks\n", "NEW")).toBe("# Benchmarks\n\nNEW\n");
  });
});
