/**
 * Settling on the owner: an ackId is current when its epoch is the subscription's and its
 * lease number is the delivery count of the entry's latest delivery while it is leased (a
 * lease that ran out but was not handed out again still counts). Older epochs and superseded
 * deliveries are `expired`; anything else is `unknown`, except deliveries a predecessor
 * handed out (`takeover-zone.ts`).
 */
import { type AckIdParts, decodeAckId } from "../../core/ack-id.js";
import type { Settled } from "../engine.js";
import { backoffDelayMs } from "./backoff.js";
import { MAX_ATTEMPTS_REASON } from "./dead-letter.js";
import { type Entry, entryId, REDELIVERY_GRACE_MS } from "./delivery-table.js";
import type { AckRequest } from "./js-acks.js";
import type { OwnerState } from "./owner-state.js";

export type SettleOp =
  | { readonly kind: "ack" }
  | { readonly kind: "nack"; readonly delayMs: number | null }
  | { readonly kind: "extend"; readonly leaseMs?: number }
  | { readonly kind: "reject"; readonly reason: string };

export interface Found {
  readonly status: "ok" | "expired" | "unknown" | "zone";
  readonly entry?: Entry;
}

export function findDelivery(s: OwnerState, parts: AckIdParts | null): Found {
  if (parts === null || parts.epoch > s.rec.epoch) return { status: "unknown" };
  if (parts.epoch < s.rec.epoch) return { status: "expired" };
  const id =
    parts.ref === undefined ? entryId("topic", parts.offset) : entryId("redrive", parts.ref);
  const entry = s.table.get(id);
  if (entry === undefined || entry.record.offset !== parts.offset)
    return { status: s.zone.covers(id, parts) ? "zone" : "unknown" };
  if (entry.dc > parts.lease) return { status: "expired" };
  if (entry.dc < parts.lease || entry.state !== "leased" || entry.busy)
    return { status: "unknown" };
  return { status: "ok", entry };
}

export async function settle(
  s: OwnerState,
  op: SettleOp,
  ackIds: readonly string[],
): Promise<Settled[]> {
  const results: Settled[] = [];
  const chosen: Entry[] = [];
  const blind: { index: number; parts: AckIdParts }[] = [];
  for (const ackId of ackIds) {
    const parts = decodeAckId(ackId);
    const found = findDelivery(s, parts);
    if (found.status === "ok" && found.entry !== undefined) {
      found.entry.busy = true;
      chosen.push(found.entry);
    } else if (found.status === "zone" && parts !== null) {
      blind.push({ index: results.length, parts });
    }
    const appendedAt = op.kind === "ack" ? found.entry?.record.appendedAt : undefined;
    results.push(
      appendedAt === undefined
        ? { ackId, status: found.status === "zone" ? "ok" : found.status }
        : { ackId, status: "ok", appendedAt },
    );
  }
  try {
    await apply(s, op, chosen);
    for (const { index, parts } of blind) {
      const status = await s.zone.settle(s.zoneDeps(), op, parts);
      if (status === "ok" && (op.kind === "ack" || op.kind === "reject")) {
        const id =
          parts.ref === undefined ? entryId("topic", parts.offset) : entryId("redrive", parts.ref);
        s.table.releaseGhost(s.zone.keyOf(id), id);
      }
      const prior = results[index];
      if (prior !== undefined) results[index] = { ackId: prior.ackId, status };
    }
  } finally {
    for (const e of chosen) e.busy = false;
    s.waker.notify();
  }
  return results;
}

async function apply(s: OwnerState, op: SettleOp, entries: Entry[]): Promise<void> {
  if (entries.length === 0) return;
  switch (op.kind) {
    case "ack":
      await s.confirm(entries.map((e) => ({ subject: e.reply, kind: "ack" })));
      for (const e of entries) s.table.remove(e);
      s.count("acked", entries.length);
      return;
    case "nack":
      return nack(s, entries, op.delayMs);
    case "extend":
      return extend(s, entries, op.leaseMs ?? s.config.ackTimeoutMs);
    case "reject":
      return s.deadLetter(entries, op.reason, (e) => e.dc, true);
  }
}

/** Out of attempts: straight to the dead letters; else JetStream redelivers after the delay. */
async function nack(s: OwnerState, entries: Entry[], delayMs: number | null): Promise<void> {
  const { maxAttempts, backoff } = s.config;
  const exhausted = entries.filter((e) => e.dc >= maxAttempts);
  const retry = entries.filter((e) => e.dc < maxAttempts);
  const requests: AckRequest[] = retry.map((e) => ({
    subject: e.reply,
    kind: "nak",
    delayMs: delayMs ?? backoffDelayMs(backoff, e.dc, Math.random),
  }));
  await Promise.all([
    s.deadLetter(exhausted, MAX_ATTEMPTS_REASON, (e) => e.dc, true),
    s.confirm(requests),
  ]);
  const now = Date.now();
  requests.forEach((r, i) => {
    const e = retry[i] as Entry;
    e.state = "waiting";
    e.redeliverBy = now + (r.delayMs ?? 0) + s.config.ackTimeoutMs + REDELIVERY_GRACE_MS;
  });
}

async function extend(s: OwnerState, entries: Entry[], leaseMs: number): Promise<void> {
  const now = Date.now();
  for (const e of entries) e.leaseUntil = now + leaseMs;
  const refresh = entries.filter((e) => e.leaseUntil > e.serverUntil - s.tickMs());
  await s.confirm(refresh.map((e) => ({ subject: e.reply, kind: "progress" })));
  for (const e of refresh) e.serverUntil = now + s.config.ackTimeoutMs;
}
