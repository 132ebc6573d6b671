/**
 * Small actions and checks the behaviour files share: lease now, lease until something
 * arrives, settle and check, read a whole topic, expect an error code, wait a stated bound.
 */
import { setTimeout as delay } from "node:timers/promises";
import { expect } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import type { ErrorCode } from "../../core/errors.js";
import { SwitchyardError } from "../../core/errors.js";
import type { Delivery, Engine, LogRecord, Settled, SettleStatus } from "../engine.js";
import { eventOf } from "./fixtures.js";

/** Lease length for tests that let leases expire: short, but far above timer jitter. */
export const SHORT_LEASE_MS = 300;
/** Lease length for tests that must not see a lease expire. */
export const LONG_LEASE_MS = 60_000;
/** Bound for positive waits ("it happens"): generous, so a loaded machine still passes. */
export const POSITIVE_MS = 5_000;

export interface LeaseOptions {
  readonly max?: number;
  readonly leaseMs?: number;
}

/** One lease call that answers at once. */
export function leaseNow(
  engine: Engine,
  sub: string,
  { max = 100, leaseMs }: LeaseOptions = {},
): Promise<readonly Delivery[]> {
  return engine.cursors.lease(sub, {
    max,
    waitMs: 0,
    ...(leaseMs === undefined ? {} : { leaseMs }),
  });
}

/** Leases repeatedly (bounded by POSITIVE_MS) until `count` deliveries have arrived in total. */
export async function leaseUntil(
  engine: Engine,
  sub: string,
  count: number,
  options: LeaseOptions = {},
): Promise<Delivery[]> {
  const got: Delivery[] = [];
  await eventually(
    async () => {
      got.push(...(await leaseNow(engine, sub, options)));
      expect(got.length).toBeGreaterThanOrEqual(count);
    },
    { timeoutMs: POSITIVE_MS },
  );
  return got;
}

/** Waits a stated bound for a negative check ("nothing arrives within …"). */
export async function elapse(ms: number): Promise<void> {
  await delay(ms);
}

export function idsOf(items: readonly (Delivery | LogRecord)[]): string[] {
  return items.map((item) => eventOf("record" in item ? item.record : item).id);
}

export function offsetsOf(items: readonly (Delivery | LogRecord)[]): number[] {
  return items.map((item) => ("record" in item ? item.record : item).offset);
}

export function statusesOf(results: readonly Settled[]): SettleStatus[] {
  return results.map((r) => r.status);
}

export async function ackAll(engine: Engine, sub: string, deliveries: readonly Delivery[]) {
  if (deliveries.length === 0) return;
  const results = await engine.cursors.ack(
    sub,
    deliveries.map((d) => d.ackId),
  );
  expect(statusesOf(results)).toEqual(deliveries.map(() => "ok"));
}

/** Every record of a topic, following `next` page by page. */
export async function readAll(engine: Engine, topic: string, from = 1): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  let next = from;
  for (;;) {
    const page = await engine.log.read(topic, { offset: next }, 1000);
    if (page.records.length === 0) return records;
    records.push(...page.records);
    next = page.next;
  }
}

/** Asserts that `action` rejects with a SwitchyardError carrying `code`. */
export async function expectCode(action: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await action.then(
    () => new Error(`expected a rejection with ${code}, but it resolved`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchyardError);
  expect((error as SwitchyardError).code).toBe(code);
}

/** The one item of `items`, asserting there is exactly one. */
export function single<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item === undefined) throw new Error("exactly one item expected");
  return item;
}
