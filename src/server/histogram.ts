/**
 * A Prometheus histogram for the per-request hot path, rendered by prom-client's registry
 * exactly as its own `Histogram` renders (`_bucket` with `le`, `_sum`, `_count`). Its series
 * count into a typed array: an observe is a bucket search and three additions, where
 * prom-client's child builds a labels object, validates it and hashes the label values into
 * a string on every call (two observes per publish request, ~2% of the router's main thread).
 */
import type { Histogram as PromHistogram, Registry } from "prom-client";
import type { HistogramChild } from "../broker/metrics.js";

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket, not cumulative; the last slot is above every bound (+Inf). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ValuePair {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName: string;
}

export interface HistogramSpec {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds in seconds, ascending. */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #labelNames: readonly string[];
  readonly #bounds: Float64Array;
  readonly #series = new Map<string, Series>();

  constructor(spec: HistogramSpec) {
    this.name = spec.name;
    this.help = spec.help;
    this.#labelNames = spec.labelNames;
    this.#bounds = Float64Array.from(spec.buckets);
    // The registry renders any metric with a name, help, type and get(); its type names
    // only prom-client's own classes.
    spec.registry.registerMetric(this as unknown as PromHistogram);
  }

  /** The series of these label values (in `labelNames` order); callers cache it. */
  labels(...values: string[]): HistogramChild {
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (series === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? "";
      });
      series = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const found = series;
    const bounds = this.#bounds;
    return {
      observe(value: number): void {
        let i = 0;
        while (i < bounds.length && value > (bounds[i] ?? 0)) i++;
        found.counts[i] = (found.counts[i] ?? 0) + 1;
        found.sum += value;
        found.count += 1;
      },
    };
  }

  /** What prom-client's registry renders: the shape its own histograms answer. */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ValuePair[];
  }> {
    const values: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += series.counts[i] ?? 0;
        values.push({
          labels: { le },
          sharedLabels: series.labels,
          value: cumulative,
          metricName: bucket,
        });
      });
      const shared = series.labels;
      values.push({
        labels: { le: "+Inf" },
        sharedLabels: shared,
        value: series.count,
        metricName: bucket,
      });
      values.push({
        labels: {},
        sharedLabels: shared,
        value: series.sum,
        metricName: `${this.name}_sum`,
      });
      values.push({
        labels: {},
        sharedLabels: shared,
        value: series.count,
        metricName: `${this.name}_count`,
      });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.#series.clear();
  }
}
