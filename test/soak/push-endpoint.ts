/**
 * The soak test's push endpoint: a local webhook receiver that fails on purpose. A share of
 * events fail their first request with a 503 (so retries happen and succeed), and "poisoned"
 * events fail every request until the test fixes them (so they dead-letter, and are delivered
 * once redriven). Every request answered 2xx is recorded, in arrival order, as a delivery.
 */
import type { Observed } from "../crash/consumer.js";
import { type HttpSink, startSink } from "../support/http-sink.js";

export interface PushEndpointOptions {
  /** The share of events whose first request is answered 503. */
  readonly failFirstRatio: number;
  /** Events answered 500 on every request until `fix`ed. */
  readonly poisoned: (id: string) => boolean;
}

export interface PushEndpointStats {
  requests: number;
  /** 503s answered to first requests on purpose. */
  failedFirst: number;
  /** 500s answered to poisoned events not fixed yet. */
  failedPoisoned: number;
  /** Requests the endpoint could not read (no `ce-id`, a body that is not the test's data). */
  unreadable: number;
}

export class PushEndpoint {
  /** Every request answered 2xx, in arrival order (`attempt` counts this event's requests). */
  readonly observed: Observed[] = [];
  /** Distinct events answered 2xx. */
  readonly delivered = new Set<string>();
  readonly stats: PushEndpointStats = {
    requests: 0,
    failedFirst: 0,
    failedPoisoned: 0,
    unreadable: 0,
  };
  readonly #options: PushEndpointOptions;
  readonly #fixed = new Set<string>();
  readonly #requestsPerEvent = new Map<string, number>();
  #sink: HttpSink | undefined;

  private constructor(options: PushEndpointOptions) {
    this.#options = options;
  }

  static async start(options: PushEndpointOptions): Promise<PushEndpoint> {
    const endpoint = new PushEndpoint(options);
    // Nothing kept by the sink itself: a long run would hold every request body.
    endpoint.#sink = await startSink(
      (req, res) => res.writeHead(endpoint.#answer(req)).end(),
      "/hook",
      false,
    );
    return endpoint;
  }

  get url(): string {
    if (!this.#sink) throw new Error("push endpoint not started");
    return this.#sink.url;
  }

  /** From now on a poisoned event with this id is answered 204 like any other. */
  fix(id: string): void {
    this.#fixed.add(id);
  }

  async close(): Promise<void> {
    await this.#sink?.close();
  }

  #answer(req: { headers: Record<string, string | string[] | undefined>; text: string }): number {
    this.stats.requests++;
    const id = req.headers["ce-id"];
    const offset = Number(req.headers["ce-offset"]);
    const data = parseData(req.text);
    if (typeof id !== "string" || !Number.isInteger(offset) || !data) {
      this.stats.unreadable++;
      return 400;
    }
    const attempt = (this.#requestsPerEvent.get(id) ?? 0) + 1;
    this.#requestsPerEvent.set(id, attempt);
    if (this.#options.poisoned(id) && !this.#fixed.has(id)) {
      this.stats.failedPoisoned++;
      return 500;
    }
    if (attempt === 1 && Math.random() < this.#options.failFirstRatio) {
      this.stats.failedFirst++;
      return 503;
    }
    this.observed.push({ id, key: data.key, seq: data.seq, offset, attempt });
    this.delivered.add(id);
    return 204;
  }
}

function parseData(text: string): { key: string; seq: number } | undefined {
  try {
    const data = JSON.parse(text) as { key?: unknown; seq?: unknown };
    return typeof data.key === "string" && typeof data.seq === "number"
      ? { key: data.key, seq: data.seq }
      : undefined;
  } catch {
    return undefined;
  }
}

/** About one event in `every` is poisoned, chosen by a hash of its id (FNV-1a). */
export function poisonedOneIn(every: number): (id: string) => boolean {
  return (id) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % every === 0;
  };
}
