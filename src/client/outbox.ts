import { cloudEventErrors } from "../core/event.js";
import { isTopicName } from "../core/names.js";
import { currentCause } from "./correlation.js";
import { clientError } from "./errors.js";
import { buildEvent, type EventInput } from "./publisher.js";
import { type PgQueryable, quoteTable } from "./sql-names.js";

/** An event for the outbox: an `EventInput` plus the topic the relay publishes it to. */
export interface OutboxEvent<T = unknown> extends EventInput<T> {
  readonly topic: string;
}

export interface OutboxOptions {
  /** The outbox table (default "outbox"), as created by `switchyard outbox init`. */
  readonly table?: string;
  /** `source` of events that name none (default "switchyard-outbox"). */
  readonly source?: string;
}

export interface Outbox {
  /**
   * Adds `event` to the outbox inside the application's transaction `tx` (a `pg` client on
   * which BEGIN was sent): the event is published if and only if `tx` commits. Resolves with
   * the event's `id` and `source`, fixed now, so the log's copy is recognisable later.
   */
  enqueue(tx: PgQueryable, event: OutboxEvent): Promise<{ id: string; source: string }>;
}

/** An outbox writer for one table. */
export function createOutbox(options: OutboxOptions = {}): Outbox {
  const table = quoteTable(options.table ?? "outbox");
  const source = options.source ?? "switchyard-outbox";
  const insert = `INSERT INTO ${table} (topic, event) VALUES ($1, $2)`;
  return {
    async enqueue(tx, { topic, ...input }) {
      if (!isTopicName(topic))
        throw clientError(
          "invalid_name",
          `topic name ${JSON.stringify(topic)} must match [a-zA-Z0-9._-]{1,200}`,
        );
      // Built and checked now, as `publish` would: a bad event must fail the application's
      // transaction, not stall the relay later.
      const event = buildEvent(input, source, currentCause());
      const errors = cloudEventErrors(event);
      if (errors.length > 0) {
        const detail = errors.map((e) => `${e.pointer}: ${e.message}`).join("; ");
        const reserved = errors.some((e) => e.message.includes("reserved"));
        throw clientError(reserved ? "reserved_attribute" : "invalid_event", detail, { errors });
      }
      await tx.query(insert, [topic, JSON.stringify(event)]);
      return { id: event.id, source: event.source };
    },
  };
}

/** The outbox writer for the default table, "outbox". */
export const outbox: Outbox = createOutbox();
