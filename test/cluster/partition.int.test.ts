/**
 * Network partition: a three-node R3 JetStream cluster whose nodes run in network namespaces
 * of the test's own (see test/support/netns.ts), and two Switchyard routers (the real CLI),
 * router A connected to n1 only and router B to n3 only, so one router sits on each side of
 * a cut. Under batched publishes through both routers and pull consumption with acks on a
 * key-ordered subscription (small maxAttempts) through both routers, one node is cut off the
 * other two and healed: first n3 (router B in the minority), then n1 (router A), in turn.
 * During each cut a probe publishes one event at a time to the minority router and records
 * what it answers. Afterwards: every event answered 201 is in the log once and was delivered,
 * nothing acked "ok" came back, no delivery's attempt exceeds maxAttempts, and the minority
 * router answered errors, never a 201 that was lost.
 *
 * Needs root (namespaces and veths): fails, never skips, without it. Short by default (one
 * 10 s cut, part of `npm test`); `SWITCHYARD_PARTITION_LONG=1` (`npm run test:partition`)
 * runs three cuts of 30 s each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Consumer } from "../crash/consumer.js";
import { call, callUntilAnswered } from "../crash/http.js";
import { LoadLoops } from "../crash/load-loops.js";
import { readWholeLog } from "../crash/read-log.js";
import { eventually } from "../support/eventually.js";
import { natsServerAvailable, partitionSafeNatsServer } from "../support/nats-server.js";
import { NetnsNatsNode, PartitionNet, requireRoot } from "../support/netns.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { Publisher } from "./load.js";

const LONG = process.env.SWITCHYARD_PARTITION_LONG === "1";
const CUTS = LONG ? 3 : 1;
const CUT_MS = LONG ? 30_000 : 10_000;
/** Before each cut, each publisher must have this many more events answered 201. */
const PROGRESS_EVENTS = LONG ? 2_000 : 300;
const MAX_ATTEMPTS = 5;
const ACK_TIMEOUT_MS = 2_000;
/** Generous: a loaded machine, leader elections and a node catching up after the heal. */
const RECOVERY_MS = 90_000;
const DRAIN_MS = LONG ? 120_000 : 60_000;
const TOPIC = "partition";
const PROBE_TIMEOUT_MS = 30_000;

interface ProbeAnswer {
  readonly id: string;
  readonly cut: number;
  /** Since the cut (negative: never; after CUT_MS: after the heal). */
  readonly atMs: number;
  readonly ms: number;
  readonly status: number | "no answer";
  readonly code?: string;
  /** The offset a 201 gave. */
  readonly offset?: number;
  /** The start of the answer's body. */
  readonly body?: string;
}

/**
 * Publishes one event at a time to one router, each retried with the same id until it is
 * answered 201 (so every probe event is either confirmed or never stored), recording answers.
 */
class Probe {
  readonly answers: ProbeAnswer[] = [];
  readonly confirmed: string[] = [];
  readonly #url: string;
  #seq = 0;

  constructor(url: string) {
    this.#url = `${url}/v1/topics/${TOPIC}/events`;
  }

  /**
   * Probes until `until()` holds, then retries the pending event (if any) until it is answered
   * 201; throws if that takes longer than RECOVERY_MS.
   */
  async run(cut: number, cutAt: number, until: () => boolean): Promise<void> {
    while (!until()) {
      const id = `probe-${cut}-${this.#seq}`;
      const event = {
        specversion: "1.0",
        id,
        source: "/partition-probe",
        type: "partition.probe",
        partitionkey: "probe",
        data: { key: "probe", seq: this.#seq },
      };
      let deadline = Number.POSITIVE_INFINITY;
      for (;;) {
        const answer = await this.#publish(cut, cutAt, event);
        if (answer.status === 201) break;
        if (until()) deadline = Math.min(deadline, Date.now() + RECOVERY_MS);
        if (Date.now() > deadline)
          throw new Error(`probe ${id} not answered 201 within ${RECOVERY_MS} ms of the heal`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      this.confirmed.push(id);
      this.#seq++;
    }
  }

  async #publish(cut: number, cutAt: number, event: { id: string }): Promise<ProbeAnswer> {
    const sent = Date.now();
    let answer: ProbeAnswer;
    try {
      const res = await fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      const text = await res.text();
      const body = (text.startsWith("{") ? JSON.parse(text) : {}) as {
        code?: string;
        events?: { offset?: number }[];
      };
      const offset = body.events?.[0]?.offset;
      answer = {
        id: event.id,
        cut,
        atMs: sent - cutAt,
        ms: Date.now() - sent,
        status: res.status,
        ...(body.code === undefined ? {} : { code: body.code }),
        ...(offset === undefined ? {} : { offset }),
        body: text.slice(0, 300),
      };
    } catch {
      answer = {
        id: event.id,
        cut,
        atMs: sent - cutAt,
        ms: Date.now() - sent,
        status: "no answer",
      };
    }
    this.answers.push(answer);
    return answer;
  }
}

describe.runIf(natsServerAvailable())("network partition: R3 JetStream in namespaces", () => {
  let net: PartitionNet | undefined;
  const nats: NetnsNatsNode[] = [];
  const routers: RouterProcess[] = [];
  let dir: string | undefined;

  afterAll(async () => {
    await Promise.allSettled(routers.map((r) => r.stop()));
    await Promise.allSettled(nats.map((n) => n.stop()));
    if (net !== undefined) {
      net.destroy();
      const left = net.leftovers();
      if (left.length > 0) throw new Error(`namespaces or links left behind: ${left.join(", ")}`);
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it(
    `loses no 201 and delivers everything through ${CUTS} cut(s) of ${CUT_MS / 1000} s`,
    async () => {
      requireRoot("the network partition test");
      const server = partitionSafeNatsServer();
      console.log(`partition test: nats-server ${server.version} (${server.path})`);
      const started = Date.now();
      const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
      dir = mkdtempSync(join(tmpdir(), "sy-partition-"));
      const workDir = dir;
      const partition = PartitionNet.create(3);
      net = partition;
      for (let i = 0; i < 3; i++)
        nats.push(new NetnsNatsNode(partition, i, join(workDir, `n${i + 1}`), server.path));
      for (const node of nats) node.start();
      await eventually(
        async () => {
          for (const node of nats)
            expect(await node.healthy(), node.output.slice(-2_000)).toBe(true);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const routerOn = (name: string, node: NetnsNatsNode) =>
        startRouterProcess({
          dataDir: join(workDir, name),
          args: ["--engine", "nats", "--nats-url", node.url, "--nats-replicas", "3"],
          env: { SWITCHYARD_LOG_LEVEL: "warn" },
          readyTimeoutMs: 60_000,
        });
      const [n1, , n3] = nats as [NetnsNatsNode, NetnsNatsNode, NetnsNatsNode];
      routers.push(await routerOn("a", n1), await routerOn("b", n3));
      const [a, b] = routers as [RouterProcess, RouterProcess];
      console.log(`partition test: cluster and routers up at ${at()}`);

      // A dedupe window longer than the test, so every retried publish is recognised.
      await callUntilAnswered(
        `${a.url}/v1/topics/${TOPIC}`,
        "PUT",
        { dedupeWindowMs: 3_600_000 },
        [201],
      );
      await callUntilAnswered(
        `${a.url}/v1/subscriptions/${TOPIC}`,
        "PUT",
        {
          topic: TOPIC,
          start: "earliest",
          ordering: "key",
          ackTimeoutMs: ACK_TIMEOUT_MS,
          maxAttempts: MAX_ATTEMPTS,
        },
        [201],
      );

      const publishers = [new Publisher([a.url], TOPIC, "pa"), new Publisher([b.url], TOPIC, "pb")];
      const consumers = [new Consumer(a.url, TOPIC), new Consumer(b.url, TOPIC)];
      const loops = new LoadLoops();
      for (const p of publishers) p.start(20, LONG ? 20 : 50);
      consumers.forEach((c, i) => {
        loops.start(`consume-${i}`, () => c.run(() => loops.stopConsuming));
      });
      const probes: Probe[] = [];
      const cuts: string[] = [];

      try {
        for (let cut = 0; cut < CUTS; cut++) {
          await everyPublisherProgresses(publishers, loops);
          const victim = cut % 2 === 0 ? 2 : 0;
          const minority = victim === 2 ? b : a;
          const majority = publishers[victim === 2 ? 0 : 1] as Publisher;
          const cutProbe = new Probe(minority.url);
          probes.push(cutProbe);
          const before = { ...majority.stats, confirmed: majority.confirmed.size };
          const cutAt = Date.now();
          const cutOver = () => Date.now() - cutAt >= CUT_MS;
          partition.cutOff(victim);
          console.log(`cut ${cut}: n${victim + 1} cut off at ${at()}`);
          let probing: Promise<void> = Promise.resolve();
          let routesGone: Promise<string> = Promise.resolve("not watched");
          try {
            probing = cutProbe.run(cut, cutAt, cutOver);
            probing.catch(() => undefined); // awaited after the heal; handled here meanwhile
            routesGone = whenRoutesGone(nats[victim] as NetnsNatsNode, cutAt, cutOver);
            await new Promise((resolve) => setTimeout(resolve, CUT_MS));
          } finally {
            partition.heal(victim);
          }
          const healAt = Date.now();
          console.log(`cut ${cut}: healed at ${at()}`);
          const routes = await routesGone;
          const majorityOk = majority.confirmed.size - before.confirmed;
          const majorityFailed = majority.stats.lostAnswers - before.lostAnswers;
          await probing;
          cuts.push(
            `cut ${cut} (n${victim + 1} and router ${victim === 2 ? "b" : "a"}, ${CUT_MS / 1000} s): ` +
              `n${victim + 1}'s /routez: ${routes}; ` +
              `majority publisher: ${majorityOk} events answered 201, ${majorityFailed} requests failed during the cut; ` +
              `minority probe answered 201 again ${Date.now() - healAt} ms after the heal`,
          );
          loops.throwIfFailed();
        }
        await everyPublisherProgresses(publishers, loops);
      } finally {
        // A publisher retries its batch until it is stored: bounded, so a failure cannot hang.
        await within(
          Promise.all(publishers.map((p) => p.stop())),
          RECOVERY_MS,
          "publishers finishing their last batch",
        );
      }
      console.log(`publishers stopped at ${at()}`);

      const confirmed = new Set([
        ...publishers.flatMap((p) => [...p.confirmed]),
        ...probes.flatMap((p) => p.confirmed),
      ]);
      const delivered = new Set<string>();
      const undelivered = (): string[] => {
        for (const c of consumers) for (const id of c.delivered) delivered.add(id);
        return [...confirmed].filter((id) => !delivered.has(id));
      };
      // Every 201 delivered, within a bound; on failure the summary below still prints.
      const drained = await eventually(
        () => {
          loops.throwIfFailed();
          expect(undelivered().length, "events answered 201 not delivered yet").toBe(0);
        },
        { timeoutMs: DRAIN_MS, intervalMs: 250 },
      ).then(
        () => true,
        () => false,
      );
      loops.stopConsuming = true;
      for (let i = 0; i < consumers.length; i++) await loops.finished(`consume-${i}`);
      console.log(`drained (${drained}) at ${at()}`);

      // A read may be served by any replica, and the one cut off catches up for a while after
      // the heal (reads through it then miss events): read once every replica has the stream.
      const replicasSince = Date.now();
      const converged = await eventually(
        async () => {
          const states = await Promise.all(nats.map((n) => replicaState(n)));
          expect(states.filter((x) => x.endsWith("no answer"))).toEqual([]);
          expect(new Set(states.map((x) => x.replace(/^\S+ /, ""))).size, states.join("; ")).toBe(
            1,
          );
          return true;
        },
        { timeoutMs: RECOVERY_MS, intervalMs: 500 },
      ).catch(() => false);
      const replicasMs = Date.now() - replicasSince;
      const log = await readWholeLog(a.url, TOPIC);
      // The same log through router b (on n3), and each replica's own view of the stream.
      const logB = await readWholeLog(b.url, TOPIC);
      const differ = log.filter((e, i) => logB[i]?.id !== e.id || logB[i]?.offset !== e.offset);
      const replicas = await Promise.all(nats.map((n) => replicaState(n)));
      const logged = new Map<string, number>();
      for (const entry of log) logged.set(entry.id, (logged.get(entry.id) ?? 0) + 1);
      const lost = [...confirmed].filter((id) => !logged.has(id));
      const twice = [...logged].filter(([, n]) => n > 1).map(([id]) => id);
      const unconfirmed = [...logged.keys()].filter((id) => !confirmed.has(id));
      const observed = consumers.flatMap((c) => c.observed);
      const maxAttempt = observed.reduce((m, o) => Math.max(m, o.attempt), 0);
      const overAttempts = observed.filter((o) => o.attempt > MAX_ATTEMPTS);
      const answers = probes.flatMap((p) => p.answers);
      const deadLettered = await deadLetterIds(a.url);
      const missing = undelivered();
      const offsets = new Map(log.map((e) => [e.id, e.offset]));
      // Where the log (read through each router) has what a lost 201 gave as its offset.
      const lostAt = await Promise.all(
        lost.slice(0, 5).map(async (id) => {
          const published = publishers.map((p) => p.answers.get(id)).find((x) => x !== undefined);
          const offset =
            answers.find((x) => x.id === id && x.status === 201)?.offset ?? published?.offset;
          if (offset === undefined)
            return `${id}: answered ${JSON.stringify(answers.filter((x) => x.id === id))}`;
          if (published !== undefined)
            return `${id} was answered offset ${offset} at ${((published.at - started) / 1000).toFixed(1)} s; the log there has ${(await Promise.all(routers.map((r) => eventAt(r.url, offset)))).join(" (router a), ")} (router b)`;
          const reads = await Promise.all(routers.map((r) => eventAt(r.url, offset)));
          return `${id} was answered offset ${offset}; the log there has ${reads.join(" (router a), ")} (router b)`;
        }),
      );
      const subscription = await callUntilAnswered(
        `${a.url}/v1/subscriptions/${TOPIC}`,
        "GET",
        undefined,
        [200],
      );
      // Answered before the heal (a request sent late in the cut may be answered after it).
      const duringCut = answers.filter((x) => x.atMs + x.ms < CUT_MS);
      const okDuringCut = duringCut.filter((x) => x.status === 201);

      console.log(
        [
          `partition test: ${CUTS} cut(s) of ${CUT_MS / 1000} s in ${at()}`,
          ...cuts.map((line) => `  ${line}`),
          `  published: ${confirmed.size} events answered 201 (probe ${probes.reduce((n, p) => n + p.confirmed.length, 0)}); ` +
            `publish requests answered other than 201/207 or not at all: ${publishers.map((p) => p.stats.lostAnswers).join(", ")} (routers a, b); 207s: ${publishers.map((p) => p.stats.partialAnswers).join(", ")}`,
          `  replicas ${converged ? "agreed" : "still disagreed"} ${replicasMs} ms after the drain: ${replicas.join("; ")}`,
          `  log through router b: ${logB.length} events, ${differ.length} entries differ from router a's${differ
            .slice(0, 3)
            .map((e) => {
              const other = logB.find((x) => x.offset === e.offset);
              return ` (offset ${e.offset}: ${e.id} through a, ${other?.id ?? "nothing"} through b)`;
            })
            .join("")}`,
          `  log: ${log.length} events; lost ${lost.length}; stored twice ${twice.length}; never answered 201 ${unconfirmed.length}`,
          `  delivered: ${new Set(observed.map((o) => o.id)).size} events in ${observed.length} deliveries; max attempt ${maxAttempt} (maxAttempts ${MAX_ATTEMPTS}); ` +
            `dead-lettered ${deadLettered.length}; consumers: ${consumers.map((c) => JSON.stringify(c.stats)).join(" ")}`,
          `  never delivered: ${missing.length}${missing
            .slice(0, 10)
            .map(
              (id) =>
                ` ${id} (offset ${offsets.get(id)}${deadLettered.includes(id) ? ", dead-lettered" : ""})`,
            )
            .join(
              ",",
            )}; subscription ${JSON.stringify((subscription as { stats?: unknown }).stats)}`,
          ...lostAt.map((line) => `  lost: ${line}`),
          `  minority answers during the cut: ${summarise(duringCut)}; after the heal: ${summarise(answers.filter((x) => x.atMs + x.ms >= CUT_MS))}`,
        ].join("\n"),
      );

      expect(converged, "every replica holds the same stream").toBe(true);
      expect(lost.slice(0, 10), `${lost.length} events answered 201 are not in the log`).toEqual(
        [],
      );
      expect(twice.slice(0, 10), "events stored more than once").toEqual([]);
      expect(unconfirmed.slice(0, 10), "events stored but never answered 201").toEqual([]);
      expect(missing.slice(0, 10), `${missing.length} events answered 201 never delivered`).toEqual(
        [],
      );
      expect(
        overAttempts.slice(0, 10),
        `${overAttempts.length} deliveries above maxAttempts ${MAX_ATTEMPTS}`,
      ).toEqual([]);
      for (const c of consumers)
        expect(c.redeliveredAfterAck, "redelivered after an ok ack").toEqual([]);
      // The minority cannot commit: what it answers while cut off is an error, not a 201;
      // and a 201 (then or after the heal) carries the event's entry with its offset.
      expect(okDuringCut, "201s from the minority router during the cut").toEqual([]);
      for (const x of duringCut)
        expect([x.status, x.code], JSON.stringify(x)).toEqual([503, "engine_unavailable"]);
      expect(
        answers.filter((x) => x.status === 201 && x.offset === undefined),
        "201s without the event's offset",
      ).toEqual([]);
    },
    LONG ? 900_000 : 240_000,
  );
});

/** Waits until each publisher has PROGRESS_EVENTS more events answered 201 than now. */
async function everyPublisherProgresses(
  publishers: readonly Publisher[],
  loops: LoadLoops,
): Promise<void> {
  const targets = publishers.map((p) => p.confirmed.size + PROGRESS_EVENTS);
  await eventually(
    () => {
      loops.throwIfFailed();
      publishers.forEach((p, i) => {
        expect(p.confirmed.size, `publisher ${i}`).toBeGreaterThanOrEqual(targets[i] ?? 0);
      });
    },
    { timeoutMs: RECOVERY_MS, intervalMs: 100 },
  );
}

/**
 * When the node's `/routez` first lists no routes, or what it last showed by `until()`: its
 * route connections outlive a cut until pings fail, and under load its monitoring may stall.
 */
async function whenRoutesGone(
  node: NetnsNatsNode,
  cutAt: number,
  until: () => boolean,
): Promise<string> {
  let last = "no answer";
  while (!until()) {
    const routez = (await node.monitor("routez").catch(() => ({}))) as { num_routes?: number };
    if (routez.num_routes === 0) return `no routes after ${Date.now() - cutAt} ms`;
    if (routez.num_routes !== undefined) last = `${routez.num_routes} routes`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return `${last} at the end of the cut`;
}

async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One node's own replica of the topic stream: messages and sequence range, from /jsz. */
async function replicaState(node: NetnsNatsNode): Promise<string> {
  interface Jsz {
    account_details?: {
      stream_detail?: {
        name: string;
        state: { messages: number; first_seq: number; last_seq: number };
      }[];
    }[];
  }
  const jsz = (await node.monitor("jsz?streams=true").catch(() => ({}))) as Jsz;
  const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
  const stream = streams.find((x) => x.name.endsWith(`_T_${TOPIC}`));
  if (stream === undefined) return `${node.url}: no answer`;
  const { messages, first_seq, last_seq } = stream.state;
  return `${node.url} ${messages} messages ${first_seq}-${last_seq}`;
}

/** The id of the event at `offset` as one router reads it, or what it answered instead. */
async function eventAt(url: string, offset: number): Promise<string> {
  const outcome = await call(
    `${url}/v1/topics/${TOPIC}/events?from=${offset}&limit=1`,
    "GET",
    "application/json",
  );
  if (outcome.kind === "lost") return `(no answer: ${outcome.error})`;
  const first = (outcome.body as { events?: { id: string; offset: number }[] }).events?.[0];
  return first === undefined ? "nothing" : `${first.id} at ${first.offset}`;
}

/** The ids of the events in the subscription's dead-letter topic (none: it may not exist). */
async function deadLetterIds(url: string): Promise<string[]> {
  const outcome = await call(
    `${url}/v1/topics/${TOPIC}.${TOPIC}.dlq/events?from=1&limit=1000`,
    "GET",
    "application/json",
  );
  if (outcome.kind === "answered" && outcome.status === 200)
    return (outcome.body as { events: { id: string }[] }).events.map((e) => e.id);
  if (outcome.kind === "answered" && outcome.status === 404) return [];
  throw new Error(`reading the dead-letter topic: ${JSON.stringify(outcome)}`);
}

/** "12× 503 engine_unavailable (9.8-10.1 s), 1× 201 (0.1 s)". */
function summarise(answers: readonly ProbeAnswer[]): string {
  const groups = new Map<string, number[]>();
  for (const x of answers) {
    const key = `${x.status}${x.code === undefined ? "" : ` ${x.code}`}`;
    groups.set(key, [...(groups.get(key) ?? []), x.ms]);
  }
  if (groups.size === 0) return "none";
  return [...groups]
    .map(
      ([key, ms]) =>
        `${ms.length}× ${key} (${(Math.min(...ms) / 1000).toFixed(1)}-${(Math.max(...ms) / 1000).toFixed(1)} s)`,
    )
    .join(", ");
}
