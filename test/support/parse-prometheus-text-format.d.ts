/** The parts of parse-prometheus-text-format's output (prom2json's shape) the tests read. */
declare module "parse-prometheus-text-format" {
  export interface PromSample {
    readonly labels?: Readonly<Record<string, string>>;
    /** Counters, gauges, untyped. */
    readonly value?: string;
    /** Histograms: cumulative counts by `le`, and the `_count` and `_sum` samples. */
    readonly buckets?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }
  export interface PromFamily {
    readonly name: string;
    readonly help: string;
    readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    readonly metrics: readonly PromSample[];
  }
  // biome-ignore lint/style/noDefaultExport: the package exports its parser as the default
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
