/**
 * Checkout's orders: the SDK's aggregate (`client.aggregate`) with lib/order.ts's `evolve`
 * and `decide`, its streams kept in checkout's own PostgreSQL by `pgAggregateStore`. Loading
 * and folding, the expected-version append, deciding again on a conflict and the event ids
 * are the SDK's; this file says what the order's events look like on the wire.
 *
 * Each command's events go into `order_events` at the order's next versions and, in the same
 * transaction, into the transactional outbox; the relay (`switchyard outbox relay`) publishes
 * the outbox to the `orders` topic, so an event is in the log if and only if it is in
 * `order_events`, at the same version of the order's subject stream. Two commands on one
 * order at once: both decide on version N, the table's primary key lets one insert N+1, the
 * other is decided again on the new state.
 */
import type pg from "pg";
import {
  type Aggregate,
  type EventInput,
  type HandleOptions,
  type HandleResult,
  type PgAggregateStore,
  pgAggregateStore,
  type StoredEvent,
  type SwitchyardClient,
} from "switchyard/client";
import {
  decide,
  evolve,
  INITIAL_ORDER,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from "./order.ts";

/** The outbox's `source`, and the client's: what the router dedupes on and the dashboard names. */
export const CHECKOUT_SOURCE = "/shop/checkout";
export const ORDERS_TOPIC = "orders";
const ORDER_EVENTS = "order_events";
/** Conflicting commands on one order are decided again this many times in all. */
const ATTEMPTS = 10;

/** Resolves when `data` fits `type`'s contract; throws otherwise. */
export type ContractCheck = (type: string, data: unknown) => Promise<void>;

/** A command, with the event that led to it (OutOfStock → cancel) as `causationid`. */
export type OrderRequest = OrderCommand & { readonly causationid?: string };

export type Handled = HandleResult<OrderState>;

/** The event id of an order's event: each type happens at most once per order. */
export function eventIdOf(orderId: string, type: OrderEvent["type"]): string {
  return type === "OrderPlaced" ? orderId : `${orderId}.${type}`;
}

/** What the order's events carry besides type and data (the `orders` topic's conventions). */
function onTheWire(event: OrderEvent, causationid: string | undefined): EventInput {
  const { orderId, customerId } = event.data;
  return {
    type: event.type,
    id: eventIdOf(orderId, event.type),
    // The router numbers the order's stream (subject = order) as `order_events` does; one
    // customer's orders stay in order.
    partitionkey: customerId,
    correlationid: orderId,
    ...(causationid === undefined ? {} : { causationid }),
    data: event.data,
  };
}

// `order_events` holds only what `decide` wrote through `onTheWire`: the pairing holds.
const evolveStored = (state: OrderState, event: StoredEvent): OrderState =>
  evolve(state, event as unknown as OrderEvent);

export class OrderStore {
  readonly #pool: pg.Pool;
  readonly #events: PgAggregateStore<pg.PoolClient>;
  readonly #orders: Aggregate<OrderState, OrderRequest, pg.PoolClient>;

  /**
   * `client` builds the events (its `source` is theirs: `CHECKOUT_SOURCE`); `check` refuses
   * an event its topic's contract would (lib/contract-check.ts).
   */
  constructor(client: Pick<SwitchyardClient, "aggregate">, pool: pg.Pool, check: ContractCheck) {
    this.#pool = pool;
    this.#events = pgAggregateStore<pg.PoolClient>(pool, {
      table: ORDER_EVENTS,
      outbox: { source: CHECKOUT_SOURCE },
    });
    this.#orders = client.aggregate({
      topic: ORDERS_TOPIC,
      initialState: INITIAL_ORDER,
      evolve: evolveStored,
      // Checked before anything is written: an event the router would refuse must not
      // reach the outbox, where it would stall the relay.
      decide: async (request: OrderRequest, state: OrderState) => {
        const events = decide(request, state);
        for (const event of events) await check(event.type, event.data);
        return events.map((event) => onTheWire(event, request.causationid));
      },
      maxAttempts: ATTEMPTS,
      store: this.#events,
    });
  }

  /** Creates `order_events`; the outbox table must exist (`switchyard outbox init`). */
  async init(): Promise<void> {
    const { rows } = await this.#pool.query(
      `SELECT 1 FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'order_id'`,
      [ORDER_EVENTS],
    );
    if (rows.length > 0)
      throw new Error(
        `${ORDER_EVENTS} has the layout of an older shop (an order_id column): use a fresh database, or drop ${ORDER_EVENTS} and outbox`,
      );
    await this.#events.init();
    // `published` looks a row up by its event's id: without this, every payment would scan
    // the whole outbox (published rows stay until pruned).
    await this.#pool.query("CREATE INDEX IF NOT EXISTS outbox_event_id ON outbox ((event->>'id'))");
  }

  /** The order's state and version, and its events as `order_events` holds them. */
  async load(orderId: string) {
    const [{ state, version }, page] = await Promise.all([
      this.#orders.load(orderId),
      this.#events.read(ORDERS_TOPIC, orderId, { fromVersion: 1, limit: 1_000 }),
    ]);
    return { state, version, events: page.events };
  }

  /**
   * Runs `request` on the order; throws `OrderRefused` when its state does not allow it.
   * `inTransaction` adds writes (the reminder) to the transaction of a command that appends.
   */
  handle(
    orderId: string,
    request: OrderRequest,
    options: HandleOptions<pg.PoolClient> = {},
  ): Promise<Handled> {
    return this.#orders.handle(orderId, request, options);
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
