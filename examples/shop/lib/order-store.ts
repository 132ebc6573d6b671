/**
 * Checkout's event store, in its own PostgreSQL database: `order_events` holds each order's
 * events at versions 1, 2, 3…, and every command runs in one transaction that reads the
 * order's events, decides (lib/order.ts), inserts the new events at the next versions and
 * puts each into the transactional outbox. The relay (`switchyard outbox relay`) publishes
 * the outbox to the `orders` topic, so an event is in the log if and only if it is in
 * `order_events`: no commit without its publish, no publish without its commit.
 *
 * Two commands on one order at once: both read version N, both insert N+1, the primary key
 * lets one through and the other's transaction fails with a unique violation; it is run
 * again on the new state (optimistic concurrency, as `expectedVersion` on the router).
 */
import type pg from "pg";
import { createOutbox } from "switchyard/client";
import {
  decide,
  evolve,
  INITIAL_ORDER,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from "./order.ts";

export const ORDER_EVENTS_SQL = `CREATE TABLE IF NOT EXISTS order_events (
  order_id text NOT NULL,
  version integer NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  event_id text NOT NULL UNIQUE,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (order_id, version)
)`;

/** Conflicting commands on one order are retried this many times, then answered 503. */
const ATTEMPTS = 10;
const UNIQUE_VIOLATION = "23505";

/** Resolves when `data` fits `type`'s contract; throws otherwise. */
export type ContractCheck = (type: string, data: unknown) => Promise<void>;

/** The outbox's `source`: what the router dedupes on and the dashboard names. */
export const CHECKOUT_SOURCE = "/shop/checkout";
const outbox = createOutbox({ source: CHECKOUT_SOURCE });

export interface Handled {
  readonly state: OrderState;
  readonly version: number;
  /** The events this command appended (none when its effect was there already). */
  readonly events: readonly OrderEvent[];
}

export interface HandleOptions {
  /** The event that led to the command (OutOfStock → cancel), carried on as `causationid`. */
  readonly causationid?: string;
  /** More writes for the same transaction, given the events decided (e.g. the reminder). */
  readonly alsoInTransaction?: (tx: pg.PoolClient, events: readonly OrderEvent[]) => Promise<void>;
}

/** The event id of an order's event: each type happens at most once per order. */
export function eventIdOf(orderId: string, type: OrderEvent["type"]): string {
  return type === "OrderPlaced" ? orderId : `${orderId}.${type}`;
}

export class OrderStore {
  readonly #pool: pg.Pool;
  readonly #check: ContractCheck;

  /** `check` refuses an event its topic's contract would (lib/contract-check.ts). */
  constructor(pool: pg.Pool, check: ContractCheck) {
    this.#pool = pool;
    this.#check = check;
  }

  /** Creates `order_events`; the outbox table must exist (`switchyard outbox init`). */
  async init(): Promise<void> {
    await this.#pool.query(ORDER_EVENTS_SQL);
    // `published` looks a row up by its event's id: without this, every payment would scan
    // the whole outbox (published rows stay until pruned).
    await this.#pool.query("CREATE INDEX IF NOT EXISTS outbox_event_id ON outbox ((event->>'id'))");
  }

  async load(orderId: string, db: pg.Pool | pg.PoolClient = this.#pool) {
    const { rows } = await db.query<{ type: OrderEvent["type"]; data: unknown; version: number }>(
      "SELECT type, data, version FROM order_events WHERE order_id = $1 ORDER BY version",
      [orderId],
    );
    // Written by `handle` only, each type with its data: the pairing holds.
    const events = rows.map((r) => ({ type: r.type, data: r.data }) as OrderEvent);
    return { state: events.reduce(evolve, INITIAL_ORDER), version: rows.length, events };
  }

  /** Runs `command` on the order; throws `OrderRefused` when its state does not allow it. */
  async handle(
    orderId: string,
    command: OrderCommand,
    options: HandleOptions = {},
  ): Promise<Handled> {
    for (let attempt = 1; ; attempt++) {
      const tx = await this.#pool.connect();
      try {
        await tx.query("BEGIN");
        const { state, version } = await this.load(orderId, tx);
        const events = decide(command, state);
        let next = version;
        for (const event of events) {
          next += 1;
          const id = eventIdOf(orderId, event.type);
          await this.#check(event.type, event.data);
          await tx.query(
            "INSERT INTO order_events (order_id, version, type, data, event_id) VALUES ($1, $2, $3, $4, $5)",
            [orderId, next, event.type, JSON.stringify(event.data), id],
          );
          // subject = the order: the router numbers the order's stream as order_events does
          // (the relay publishes in id order, one customer's orders in order).
          await outbox.enqueue(tx, {
            topic: "orders",
            type: event.type,
            id,
            subject: orderId,
            partitionkey: event.data.customerId,
            correlationid: orderId,
            ...(options.causationid === undefined ? {} : { causationid: options.causationid }),
            data: event.data,
          });
        }
        await options.alsoInTransaction?.(tx, events);
        await tx.query("COMMIT");
        return { state: events.reduce(evolve, state), version: next, events };
      } catch (error) {
        await tx.query("ROLLBACK");
        const conflict = (error as { code?: unknown }).code === UNIQUE_VIOLATION;
        if (!conflict || attempt >= ATTEMPTS) throw error;
      } finally {
        tx.release();
      }
    }
  }

  /** The rows the relay has not published yet, and the age of the oldest: its lag. */
  async outboxLag(): Promise<{ pending: number; oldestMs: number }> {
    const { rows } = await this.#pool.query<{ pending: string; oldest_ms: number | null }>(
      `SELECT count(*) AS pending,
              (EXTRACT(EPOCH FROM clock_timestamp() - min(o.created_at)) * 1000)::float8 AS oldest_ms
         FROM outbox o, outbox_relay r WHERE o.id > r.published_to`,
    );
    return {
      pending: Number(rows[0]?.pending ?? 0),
      oldestMs: Math.round(rows[0]?.oldest_ms ?? 0),
    };
  }

  /** True once the relay has published the outbox row of event `id` (its cursor passed it). */
  async published(id: string): Promise<boolean> {
    const { rows } = await this.#pool.query<{ published: boolean }>(
      `SELECT o.id <= r.published_to AS published
         FROM outbox o, outbox_relay r WHERE o.event->>'id' = $1`,
      [id],
    );
    return rows[0]?.published ?? false;
  }
}
