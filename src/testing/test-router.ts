/**
 * A whole router in the test's process, on a throwaway SQLite store, with time in the test's
 * hands: `advance(ms)` expires leases, elapses backoff and runs push retries at once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClientOptions, createClient, type SwitchyardClient } from "../client/index.js";
import type { LogPage, StoredEventOf } from "../client/resources.js";
import { isSwitchyardError } from "../core/errors.js";
import { type Router, type RouterOptions, startRouter } from "../index.js";
import { ManualClock } from "./manual-clock.js";
import { type Truthy, type WaitForOptions, waitFor } from "./wait-for.js";

export interface TestRouterOptions
  extends Pick<RouterOptions, "autoCreateTopics" | "limits" | "push" | "secretKeys"> {
  /** Where the manual clock starts, in milliseconds since the epoch; default the real time now. */
  readonly startTime?: number;
  /** Push endpoints on loopback and private addresses are allowed unless this is false. */
  readonly allowPrivateEndpoints?: boolean;
  /** The router's log level; default "silent". */
  readonly logLevel?: RouterOptions["logLevel"];
  /** Options of `client` (its `url` is the router's). */
  readonly client?: Omit<ClientOptions, "url">;
  /** Event-loop turns `advance` yields after each timer it fires; default 20. */
  readonly settleTurns?: number;
}

export interface TestRouter {
  /** e.g. "http://127.0.0.1:41234": the router listens on a free loopback port. */
  readonly url: string;
  /** The store's temporary folder (deleted by `close()`). */
  readonly dataDir: string;
  /** An SDK client of the router, closed by `close()`. */
  readonly client: SwitchyardClient;
  /** The router's clock: `clock.now()` is the router's time. */
  readonly clock: ManualClock;
  /**
   * Moves the router's time `ms` forward and runs what falls due on the way (lease expiries,
   * backoff, push retries, max-attempts sweeps, retention), in order; resolves once that work
   * has settled inside the router. Outcomes that cross a socket afterwards (a subscriber's
   * handler running, a webhook arriving) are awaited with `waitFor`.
   */
  advance(ms: number): Promise<void>;
  /** Every event in `topic` so far, oldest first; none when the topic does not exist. */
  published<T = unknown>(topic: string): Promise<StoredEventOf<T>[]>;
  /**
   * Resolves once nothing of `subscription` is in flight: every delivery handed out was settled
   * (or its lease ran out). Call it before `advance` when a settle may still be on its way, so
   * the jump does not happen before the nack it should follow.
   */
  settled(subscription: string, options?: WaitForOptions): Promise<void>;
  /** Polls `predicate` in real time until it returns something truthy (see `waitFor`). */
  waitFor<T>(predicate: () => T | Promise<T>, options?: WaitForOptions): Promise<Truthy<T>>;
  /** Closes the client and the router and deletes the store. Idempotent. */
  close(): Promise<void>;
}

const PAGE = 1_000;

async function readAll<T>(client: SwitchyardClient, topic: string): Promise<StoredEventOf<T>[]> {
  const all: StoredEventOf<T>[] = [];
  let from = 1;
  for (;;) {
    let page: LogPage<T>;
    try {
      page = await client.admin.read<T>(topic, { from, limit: PAGE });
    } catch (error) {
      if (isSwitchyardError(error) && error.code === "topic_not_found") return all;
      throw error;
    }
    all.push(...page.events);
    if (page.events.length === 0 || page.next <= from) return all;
    from = page.next;
  }
}

function routerOptions(
  options: TestRouterOptions,
  dataDir: string,
  clock: ManualClock,
): RouterOptions {
  const { autoCreateTopics, limits, push, secretKeys } = options;
  return {
    dataDir,
    clock,
    port: 0,
    // A throwaway store: an fsync per commit buys nothing and costs milliseconds.
    fsync: "interval",
    logLevel: options.logLevel ?? "silent",
    allowPrivateEndpoints: options.allowPrivateEndpoints ?? true,
    ...(autoCreateTopics === undefined ? {} : { autoCreateTopics }),
    ...(limits === undefined ? {} : { limits }),
    ...(push === undefined ? {} : { push }),
    ...(secretKeys === undefined ? {} : { secretKeys }),
  };
}

/**
 * Starts a router on 127.0.0.1 (a free port) over SQLite in a fresh temporary folder, with a
 * manual clock, and a client of it. SQLite only: a NATS engine keeps time on the server.
 */
export async function createTestRouter(options: TestRouterOptions = {}): Promise<TestRouter> {
  const clock = new ManualClock({
    ...(options.startTime === undefined ? {} : { start: options.startTime }),
    ...(options.settleTurns === undefined ? {} : { settleTurns: options.settleTurns }),
  });
  const dataDir = mkdtempSync(join(tmpdir(), "switchyard-test-"));
  let router: Router;
  try {
    router = await startRouter(routerOptions(options, dataDir, clock));
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const client = createClient({ ...options.client, url: router.url });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await client.close();
    } finally {
      await router.close().finally(() => rmSync(dataDir, { recursive: true, force: true }));
    }
  };
  return {
    url: router.url,
    dataDir,
    client,
    clock,
    advance: (ms) => clock.advance(ms),
    published: (topic) => readAll(client, topic),
    settled: async (subscription, waitOptions) => {
      await waitFor(async () => {
        const { stats } = await client.admin.subscriptions.get(subscription);
        return stats?.inFlight === 0;
      }, waitOptions);
    },
    waitFor: (predicate, waitOptions) => waitFor(predicate, waitOptions),
    close: () => (closing ??= close()),
  };
}
