import type { Clock } from "../core/clock.js";
import type { Engine } from "../engine/engine.js";
import { uuidv7 } from "./ids.js";
import type { RefusalClass } from "./keys.js";
import type { RedriveAudit } from "./redrive.js";
import type { Topics } from "./topics.js";

/**
 * The audit trail: operator actions appended as CloudEvents to an ordinary topic, so they are
 * durable, replayable and readable with the same tools as any event (`switchyard audit tail`).
 */
export const AUDIT_TOPIC = "switchyard.audit";
/** API.md: the audit topic keeps 30 days unless an operator changes it. */
export const AUDIT_RETENTION_MS = 30 * 24 * 3_600_000;
/** Refused credentials are written at most this often per router; the rest are counted. */
export const REFUSED_INTERVAL_MS = 1_000;
const SOURCE = "/switchyard/broker";

/** The authenticated key behind an action; null when the router runs without auth. */
export type Actor = { readonly id: string; readonly name: string } | null;

export type AuditType =
  | "switchyard.key.created"
  | "switchyard.key.revoked"
  | "switchyard.topic.created"
  | "switchyard.topic.updated"
  | "switchyard.topic.deleted"
  | "switchyard.subscription.created"
  | "switchyard.subscription.updated"
  | "switchyard.subscription.deleted"
  | "switchyard.subscription.seeked"
  | "switchyard.schema.registered"
  | "switchyard.schema.configured"
  | "switchyard.redrive.started"
  | "switchyard.redrive.finished"
  | "switchyard.auth.refused";

/** Why a credential was refused: a class, never the credential itself. */
export type RefusalReason = RefusalClass;

export interface Refusal {
  readonly reason: RefusalReason;
  /** The id part of a key in the `sy_<id>_<secret>` format, when one could be parsed. */
  readonly keyId: string | null;
  /** `METHOD /route/pattern`, not the URL (a URL could carry anything). */
  readonly route: string;
}

/**
 * Writes the audit topic through the engine directly (only the router appends to it). An
 * append is the router's own, not part of any request's write: `write` never rejects, a
 * failure goes to `onError`, so a failed audit append never turns a success into an error.
 */
export class AuditTrail {
  readonly #engine: Engine;
  readonly #topics: Topics;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  #lastRefusedAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(engine: Engine, topics: Topics, clock: Clock, onError?: (error: unknown) => void) {
    this.#engine = engine;
    this.#topics = topics;
    this.#clock = clock;
    this.#onError = onError ?? ((error) => console.error("switchyard: audit append failed", error));
  }

  async write(
    type: AuditType,
    subject: string,
    data: Record<string, unknown>,
    actor: Actor,
  ): Promise<void> {
    try {
      await this.append(type, subject, data, actor);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Like `write`, but rejects on failure (a redrive's start is refused without its record). */
  async append(
    type: AuditType,
    subject: string,
    data: Record<string, unknown>,
    actor: Actor,
  ): Promise<void> {
    await this.#ensureTopic();
    const now = this.#clock.now();
    const event = {
      specversion: "1.0",
      id: uuidv7(now),
      source: SOURCE,
      type,
      subject,
      time: new Date(now).toISOString(),
      datacontenttype: "application/json",
      data: { ...data, actor },
    };
    await this.#engine.log.append(AUDIT_TOPIC, [
      { id: event.id, source: SOURCE, key: subject, body: JSON.stringify(event) },
    ]);
  }

  /**
   * A refused credential: the first in a second is written, carrying how many were dropped
   * since the last one written; the others are only counted (a flood of bad keys cannot
   * flood the trail). Fire-and-forget: the 401 never waits for it.
   */
  refused(refusal: Refusal): void {
    const now = this.#clock.now();
    if (now - this.#lastRefusedAt < REFUSED_INTERVAL_MS) {
      this.#suppressed++;
      return;
    }
    this.#lastRefusedAt = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    void this.write("switchyard.auth.refused", refusal.route, { ...refusal, suppressed }, null);
  }

  async #ensureTopic(): Promise<void> {
    // Through the topic cache: cheap on every append, and a deleted audit topic comes back.
    await this.#topics.ensure(AUDIT_TOPIC, { maxAgeMs: AUDIT_RETENTION_MS });
  }
}

/** The redrive jobs' recorder: the client's `actor` string moves to `data.clientActor`. */
export function redriveAuditWriter(trail: AuditTrail): (entry: RedriveAudit) => Promise<void> {
  return async (entry) => {
    const { job, request, pacing, origin } = entry;
    const { actor: clientActor, key, ...seen } = origin;
    const { actor: _claimed, ...rest } = job;
    await trail.append(
      `switchyard.redrive.${entry.event}`,
      job.subscription,
      { ...rest, request, pacing, origin: seen, clientActor },
      key ?? null,
    );
  };
}
