import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FastHistogram } from "./histogram.js";

const BUCKETS = [0.0005, 0.001, 0.0025, 0.01, 1, 10, 30];
const SPEC = {
  name: "t_seconds",
  help: "Durations \\ by\nroute.",
  labelNames: ["method", "route"],
};
// On a bound, between bounds, below the first, beyond the last.
const VALUES = [0, 0.0005, 0.0006, 0.001, 0.3, 10, 30, 31, 1e9, 2.5];

describe("FastHistogram", () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ ...SPEC, buckets: BUCKETS, registers: [theirs] });
    const fast = new FastHistogram({ ...SPEC, buckets: BUCKETS, registry: ours });
    for (const labels of [
      ["POST", "/v1/topics/:topic/events"],
      ["GET", 'a "quoted"\\route\n'],
    ]) {
      const [expected, actual] = [reference.labels(...labels), fast.labels(...labels)];
      for (const value of VALUES) {
        expected.observe(value);
        actual.observe(value);
      }
    }
    const rendered = await ours.metrics();
    expect(rendered).toContain('t_seconds_bucket{le="+Inf",method="POST"');
    expect(rendered).toBe(await theirs.metrics());
  });

  it("gives the same series for the same label values, and forgets all on reset", async () => {
    const registry = new Registry();
    const fast = new FastHistogram({ ...SPEC, buckets: BUCKETS, registry });
    fast.labels("GET", "/a").observe(0.002);
    fast.labels("GET", "/a").observe(0.002);
    expect(await registry.metrics()).toContain('t_seconds_count{method="GET",route="/a"} 2');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain("t_seconds_count");
  });
});
