/**
 * The crash test's consumer: one loop that pulls, records every delivery in the order it
 * arrives, and acks it (or, with `nackRatio`, nacks a random share of deliveries so they come
 * back). One loop, so "the order it arrives" is the router's delivery order.
 */
import { call, pause, RETRY_PAUSE_MS } from "./http.js";

export interface Observed {
  readonly id: string;
  readonly key: string;
  readonly seq: number;
  readonly offset: number;
  readonly attempt: number;
}

export interface ConsumerStats {
  pulls: number;
  deliveries: number;
  lostPulls: number;
  lostAcks: number;
  /** Ack results other than "ok" (the lease had expired, or the router forgot it in a crash). */
  notOk: number;
  /** Deliveries nacked on purpose (each comes back later). */
  nacks: number;
  lostNacks: number;
}

export interface ConsumerOptions {
  /** The share of deliveries nacked instead of acked; default 0. */
  readonly nackRatio?: number;
  /** The `delayMs` of those nacks; default: the subscription's backoff. */
  readonly nackDelayMs?: number;
}

interface PullAnswer {
  readonly deliveries: readonly {
    readonly ackId: string;
    readonly attempt: number;
    readonly event: {
      readonly id: string;
      readonly offset: number;
      readonly data: { key: string; seq: number };
    };
  }[];
}

interface AckAnswer {
  readonly results: readonly { readonly ackId: string; readonly status: string }[];
}

export class Consumer {
  /** Every delivery, in arrival order. */
  readonly observed: Observed[] = [];
  /** Distinct events delivered so far. */
  readonly delivered = new Set<string>();
  readonly stats: ConsumerStats = {
    pulls: 0,
    deliveries: 0,
    lostPulls: 0,
    lostAcks: 0,
    notOk: 0,
    nacks: 0,
    lostNacks: 0,
  };
  /** Events whose ack the router answered "ok": the API promises they never come back. */
  readonly ackedOk = new Set<string>();
  /** Deliveries of events already acked ok: each one breaks that promise. */
  readonly redeliveredAfterAck: Observed[] = [];
  /** The last few pulls and acks, for a failure's diagnosis. */
  readonly recent: string[] = [];
  readonly #base: string;
  readonly #options: ConsumerOptions;

  constructor(url: string, subscription: string, options: ConsumerOptions = {}) {
    this.#base = `${url}/v1/subscriptions/${subscription}`;
    this.#options = options;
  }

  /** Pulls and settles until `stop()` answers true. */
  async run(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const deliveries = await this.#pull();
      if (deliveries === undefined) await pause(RETRY_PAUSE_MS);
      else if (deliveries.length > 0) {
        const ratio = this.#options.nackRatio ?? 0;
        const nacked = deliveries.filter(() => Math.random() < ratio);
        const acked = deliveries.filter((d) => !nacked.includes(d));
        if (nacked.length > 0) await this.#nack(nacked.map((d) => d.ackId));
        if (acked.length > 0)
          await this.#ack(
            acked.map((d) => d.ackId),
            acked,
          );
      }
    }
  }

  async #pull(): Promise<PullAnswer["deliveries"] | undefined> {
    const outcome = await call(`${this.#base}/pull`, "POST", "application/json", {
      max: 100,
      waitMs: 200,
    });
    this.#note(
      `pull ${outcome.kind === "lost" ? outcome.error : `${outcome.status} ${JSON.stringify(outcome.body).length}B`}`,
    );
    if (outcome.kind === "lost") {
      this.stats.lostPulls++;
      return undefined;
    }
    if (outcome.status !== 200)
      throw new Error(`pull answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    const { deliveries } = outcome.body as PullAnswer;
    this.stats.pulls++;
    this.stats.deliveries += deliveries.length;
    for (const { event, attempt } of deliveries) {
      const seen = {
        id: event.id,
        key: event.data.key,
        seq: event.data.seq,
        offset: event.offset,
        attempt,
      };
      if (this.ackedOk.has(event.id)) this.redeliveredAfterAck.push(seen);
      this.observed.push(seen);
      this.delivered.add(event.id);
    }
    return deliveries;
  }

  /** One ack attempt: a lost answer leaves the events to be redelivered after their lease. */
  async #ack(ackIds: readonly string[], deliveries: PullAnswer["deliveries"]): Promise<void> {
    const outcome = await call(`${this.#base}/ack`, "POST", "application/json", { ackIds });
    this.#note(
      `ack ${ackIds.length}: ${outcome.kind === "lost" ? outcome.error : JSON.stringify(outcome.body).slice(0, 300)}`,
    );
    if (outcome.kind === "lost") {
      this.stats.lostAcks++;
      return;
    }
    if (outcome.status !== 200)
      throw new Error(`ack answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    const ids = new Map(deliveries.map((d) => [d.ackId, d.event.id]));
    for (const { ackId, status } of (outcome.body as AckAnswer).results) {
      const id = ids.get(ackId);
      if (status === "ok" && id !== undefined) this.ackedOk.add(id);
      else this.stats.notOk++;
    }
  }

  /** One nack attempt: a lost answer leaves the events to come back after their lease anyway. */
  async #nack(ackIds: readonly string[]): Promise<void> {
    const delay = this.#options.nackDelayMs;
    const outcome = await call(`${this.#base}/nack`, "POST", "application/json", {
      ackIds,
      ...(delay === undefined ? {} : { delayMs: delay }),
    });
    this.#note(`nack ${ackIds.length}: ${outcome.kind === "lost" ? outcome.error : "answered"}`);
    if (outcome.kind === "lost") {
      this.stats.lostNacks++;
      return;
    }
    if (outcome.status !== 200)
      throw new Error(`nack answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    this.stats.nacks += ackIds.length;
  }

  #note(what: string): void {
    this.recent.push(`${new Date().toISOString()} ${what}`);
    if (this.recent.length > 12) this.recent.shift();
  }
}
