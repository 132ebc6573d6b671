/** Upper bounds (seconds) of the request-duration histogram buckets. */
const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

interface Series {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Request durations by method, route pattern and status: a Prometheus histogram. */
export class HttpMetrics {
  readonly #series = new Map<string, Series>();
  /** Pull requests now waiting for deliveries (long polls). */
  pullsWaiting = 0;
  /** Requests received since start (shutdown waits for it to stop growing). */
  requestsSeen = 0;

  observe(method: string, route: string, status: number, ms: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { method, route, status, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const seconds = ms / 1000;
    const bucket = BUCKETS.findIndex((le) => seconds <= le);
    if (bucket !== -1) series.counts[bucket] = (series.counts[bucket] ?? 0) + 1;
    series.sum += seconds;
    series.count++;
  }

  /** The histogram in Prometheus text format. */
  render(label: (value: string) => string): string[] {
    const name = "switchyard_http_request_duration_seconds";
    const lines = [
      "# HELP switchyard_pulls_waiting Pull requests waiting for deliveries now.",
      "# TYPE switchyard_pulls_waiting gauge",
      `switchyard_pulls_waiting ${this.pullsWaiting}`,
      `# HELP ${name} HTTP request durations by method, route and status.`,
      `# TYPE ${name} histogram`,
    ];
    for (const s of this.#series.values()) {
      const labels = `method=${label(s.method)},route=${label(s.route)},status="${s.status}"`;
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.counts[i] ?? 0;
        lines.push(`${name}_bucket{${labels},le="${le}"} ${cumulative}`);
      });
      lines.push(`${name}_bucket{${labels},le="+Inf"} ${s.count}`);
      lines.push(`${name}_sum{${labels}} ${s.sum}`);
      lines.push(`${name}_count{${labels}} ${s.count}`);
    }
    return lines;
  }
}
