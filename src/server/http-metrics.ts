import type { HistogramChild } from "../broker/metrics.js";

/** The request-duration series of one method, route pattern and status. */
export type RequestSeries = (method: string, route: string, status: string) => HistogramChild;

/**
 * Request durations by method, route pattern and status (a histogram in the registry of
 * metrics.ts), and the counts the server itself needs. Series are cached by method, route
 * and status, so a request costs three map lookups and an observe.
 */
export class HttpMetrics {
  readonly #series: RequestSeries;
  readonly #cache = new Map<string, Map<string, Map<number, HistogramChild>>>();
  /** Pull requests now waiting for deliveries (long polls). */
  pullsWaiting = 0;
  /** Requests received since start (shutdown waits for it to stop growing). */
  requestsSeen = 0;

  constructor(series: RequestSeries) {
    this.#series = series;
  }

  observe(method: string, route: string, status: number, ms: number): void {
    let routes = this.#cache.get(method);
    if (routes === undefined) {
      routes = new Map();
      this.#cache.set(method, routes);
    }
    let statuses = routes.get(route);
    if (statuses === undefined) {
      statuses = new Map();
      routes.set(route, statuses);
    }
    let child = statuses.get(status);
    if (child === undefined) {
      child = this.#series(method, route, String(status));
      statuses.set(status, child);
    }
    child.observe(ms / 1000);
  }
}
