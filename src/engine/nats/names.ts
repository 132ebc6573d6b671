/**
 * Every JetStream name the engine derives, in one place. Topic names may hold `.` (a subject
 * separator, and not allowed in stream names), so they are escaped into `[A-Za-z0-9_-]`:
 * `_` becomes `_u` and `.` becomes `_d`, a prefix code, so two topics never share a name.
 */
import { createHash } from "node:crypto";

/** Stream names end up as directory names: keep them well below common 255-byte limits. */
const MAX_ESCAPED = 160;

export function escapeName(name: string): string {
  const escaped = name.replaceAll("_", "_u").replaceAll(".", "_d");
  if (escaped.length <= MAX_ESCAPED) return escaped;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 32);
  return `${escaped.slice(0, MAX_ESCAPED - 36)}_h${hash}`;
}

/** The names of one Switchyard installation (`prefix`) on a JetStream account. */
export class Names {
  readonly prefix: string;

  constructor(prefix: string) {
    if (!/^[A-Za-z0-9-]{1,32}$/.test(prefix))
      throw new Error(`NATS prefix ${JSON.stringify(prefix)} must match [A-Za-z0-9-]{1,32}`);
    this.prefix = prefix;
  }

  topicStream(topic: string): string {
    return `${this.prefix}_T_${escapeName(topic)}`;
  }

  topicSubject(topic: string): string {
    return `${this.prefix}.t.${escapeName(topic)}`;
  }

  /** One stream holds the redrive queues of every subscription, a subject each. */
  get redriveStream(): string {
    return `${this.prefix}_REDRIVE`;
  }

  redriveSubject(sub: string): string {
    return `${this.prefix}.rd.${sub}`;
  }

  /** One stream holds the push attempt logs of every subscription, a subject each. */
  get attemptStream(): string {
    return `${this.prefix}_ATTEMPTS`;
  }

  attemptSubject(sub: string): string {
    return `${this.prefix}.at.${sub}`;
  }

  /** Seek recreates the consumers under a new epoch, so an old ackId can never reach them. */
  topicConsumer(sub: string, epoch: number): string {
    return `${sub}-t${epoch}`;
  }

  redriveConsumer(sub: string, epoch: number): string {
    return `${sub}-r${epoch}`;
  }

  get topicsBucket(): string {
    return `${this.prefix}_topics`;
  }

  get subscriptionsBucket(): string {
    return `${this.prefix}_subscriptions`;
  }

  get ownersBucket(): string {
    return `${this.prefix}_owners`;
  }

  get indexBuildsBucket(): string {
    return `${this.prefix}_indexbuilds`;
  }

  get countersBucket(): string {
    return `${this.prefix}_counters`;
  }

  /** The Catalog's records, keyed `{kind}.{key}`. */
  get catalogBucket(): string {
    return `${this.prefix}_catalog`;
  }

  /** The subject the node that owns a subscription answers on. */
  ownerSubject(sub: string): string {
    return `_SY.${this.prefix}.own.${sub}`;
  }

  inboxPrefix(nodeId: string): string {
    return `_SY.${this.prefix}.in.${nodeId}`;
  }

  /** Pulled messages come on a subscription per pull request, under this prefix. */
  pullPrefix(nodeId: string): string {
    return `_SY.${this.prefix}.pull.${nodeId}`;
  }
}
