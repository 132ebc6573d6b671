/**
 * What the crash test demands of the log and of deliveries after the dust settles. Each
 * check answers a list of problems (empty when it holds), so a failure shows every breach.
 */
import type { Observed } from "./consumer.js";
import type { Confirmed } from "./producer.js";

export interface LogEntry {
  readonly id: string;
  readonly offset: number;
  readonly key: string;
  readonly seq: number;
}

const SHOW = 10;

function limited(problems: string[]): string[] {
  return problems.length <= SHOW
    ? problems
    : [...problems.slice(0, SHOW), `…and ${problems.length - SHOW} more`];
}

function groupByKey<T extends { readonly key: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.key);
    if (group) group.push(item);
    else groups.set(item.key, [item]);
  }
  return groups;
}

/**
 * The log holds every event whose publish was answered 201 exactly once, at the offset the
 * answer gave, and nothing else (every lost answer was retried until it was answered); offsets
 * grow; each key's sequence numbers appear in publish order without gaps.
 */
export function checkLog(log: readonly LogEntry[], confirmed: readonly Confirmed[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, LogEntry[]>();
  log.forEach((entry, i) => {
    const same = byId.get(entry.id);
    if (same) same.push(entry);
    else byId.set(entry.id, [entry]);
    const previous = log[i - 1];
    if (previous && entry.offset <= previous.offset)
      problems.push(`offset ${entry.offset} follows ${previous.offset} in the log`);
  });
  for (const [id, entries] of byId)
    if (entries.length > 1)
      problems.push(
        `event ${id} is in the log ${entries.length} times (offsets ${entries.map((e) => e.offset)})`,
      );
  const confirmedIds = new Set(confirmed.map((c) => c.id));
  for (const c of confirmed) {
    const stored = byId.get(c.id)?.[0];
    if (!stored)
      problems.push(`event ${c.id} was answered 201 (offset ${c.offset}) but is not in the log`);
    else if (stored.offset !== c.offset)
      problems.push(`event ${c.id} was answered offset ${c.offset}, the log has ${stored.offset}`);
  }
  for (const id of byId.keys())
    if (!confirmedIds.has(id))
      problems.push(`event ${id} is in the log but was never answered 201`);
  for (const [key, entries] of groupByKey(log))
    entries.forEach((entry, i) => {
      if (entry.seq !== i)
        problems.push(`key ${key}: offset ${entry.offset} holds seq ${entry.seq}, expected ${i}`);
    });
  return limited(problems);
}

/**
 * Every event in the log reached the subscription at least once, and per key the order held:
 * the first deliveries of a key's events come in log order, and a redelivery only ever repeats
 * the key's latest delivered event (offsets per key never go back). Why that is the promise
 * under crashes: with `ordering: "key"` the router leases a key's next event only once the
 * previous one is acked; an ack answered "ok" is durable, and an ack whose answer was lost
 * either committed (the event never returns) or did not (the same event is redelivered before
 * anything later of its key). A crash loses leases, never acks, so no earlier event can come
 * back after a later one of its key.
 */
export function checkDeliveries(log: readonly LogEntry[], observed: readonly Observed[]): string[] {
  const problems: string[] = [];
  const delivered = new Set(observed.map((o) => o.id));
  for (const entry of log)
    if (!delivered.has(entry.id))
      problems.push(`event ${entry.id} (offset ${entry.offset}) was never delivered`);
  const logged = new Set(log.map((e) => e.id));
  for (const id of delivered)
    if (!logged.has(id)) problems.push(`delivered event ${id} is not in the log`);
  const logByKey = groupByKey(log);
  for (const [key, deliveries] of groupByKey(observed)) {
    const firsts: Observed[] = [];
    const seen = new Set<string>();
    deliveries.forEach((d, i) => {
      const previous = deliveries[i - 1];
      if (previous && d.offset < previous.offset)
        problems.push(
          `key ${key}: offset ${d.offset} (attempt ${d.attempt}) delivered after offset ${previous.offset}`,
        );
      if (!seen.has(d.id)) firsts.push(d);
      seen.add(d.id);
    });
    const expected = (logByKey.get(key) ?? []).map((e) => e.offset).join(",");
    const actual = firsts.map((d) => d.offset).join(",");
    if (expected !== actual)
      problems.push(`key ${key}: first deliveries are not the key's log order`);
  }
  return limited(problems);
}
