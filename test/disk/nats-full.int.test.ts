/**
 * A full JetStream store: a nats-server with a tiny `max_file_store` under an in-process
 * router on the NATS engine. A filler topic is published to until JetStream refuses; then
 * every topic's publishes answer 507 `storage_full` with `Retry-After`. The operator frees
 * space (purges the filler's stream, as `nats stream purge` would) and the same router stores
 * again by itself; every event acknowledged before is still there.
 *
 * Topic streams use `discard: old`, so a topic's own `maxBytes` never refuses (retention drops
 * the oldest events); what fills up is the server's store (`max_file_store`, or the disk).
 */

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type NatsServers, startNatsServer } from "../support/nats-server.js";
import { startTestRouter, type TestRouter } from "../support/router.js";
import { TEST_SECRET_KEY } from "../support/router-process.js";
import {
  type Answer,
  call,
  events,
  type Published,
  publish,
  publishedOf,
  readLog,
} from "./http.js";

const MAX_FILE_STORE = "2MB";
const MAX_BATCHES = 200;
const PREFIX = "diskfull";

function expectFullAnswer(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(507);
  expect(answer.body.code).toBe("storage_full");
  expect(String(answer.body.detail)).toMatch(/JetStream has no room/);
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
}

async function purgeStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.purge(stream);
  } finally {
    await nc.close();
  }
}

describe("storage full (NATS, max_file_store)", () => {
  let nats: NatsServers | undefined;
  let router: TestRouter | undefined;

  afterAll(async () => {
    await router?.dispose();
    await nats?.close();
  });

  it("answers 507 storage_full when JetStream has no room and recovers once space is freed", async () => {
    nats = await startNatsServer({ maxFileStore: MAX_FILE_STORE });
    const live = await startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix: PREFIX },
      secretKeys: TEST_SECRET_KEY,
    });
    router = live;
    for (const topic of ["kept", "filler"])
      expect((await call(`${live.url}/v1/topics/${topic}`, "PUT", {})).status).toBe(201);
    const sub = await call(`${live.url}/v1/subscriptions/kept-sub`, "PUT", { topic: "kept" });
    expect(sub.status).toBe(201);

    const acked: Published[] = [];
    for (let b = 0; b < 5; b++) {
      const answer = await publish(live.url, "kept", events(`kept-${b}`, 10, 500));
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      acked.push(...publishedOf(answer));
    }
    let fillerBatches = 0;
    for (;;) {
      if (fillerBatches >= MAX_BATCHES) throw new Error("JetStream never filled up");
      const answer = await publish(live.url, "filler", events(`f-${fillerBatches}`, 20, 4_000));
      fillerBatches++;
      if (answer.status === 201) continue;
      if (answer.status === 207) {
        // Not atomic on NATS: the store filled up part way through this batch.
        const failed = (answer.body.events as { error?: { code: string } }[]).flatMap((e) =>
          e.error === undefined ? [] : [e.error.code],
        );
        expect(new Set(failed)).toEqual(new Set(["storage_full"]));
        continue;
      }
      expectFullAnswer(answer);
      break;
    }
    const late = events("kept-late", 10, 500);
    expectFullAnswer(await publish(live.url, "kept", late));
    const pulled = await call(`${live.url}/v1/subscriptions/kept-sub/pull`, "POST", {
      max: 10,
      waitMs: 0,
    });
    const created = await call(`${live.url}/v1/subscriptions/kept-late`, "PUT", { topic: "kept" });
    const ready = await call(`${live.url}/readyz`, "GET");
    console.log(
      `nats full: pull ${pulled.status}, create subscription ${created.status}, readyz ${ready.status}`,
    );
    expect([200, 507], JSON.stringify(pulled.body)).toContain(pulled.status);
    expect([201, 507], JSON.stringify(created.body)).toContain(created.status);
    expect(ready.status).toBe(200); // full is not unready: reads are served

    await purgeStream(nats.url, `${PREFIX}_T_filler`);
    const started = Date.now();
    const stored = await eventually(
      async () => {
        const answer = await publish(live.url, "kept", late);
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        return publishedOf(answer);
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    console.log(
      `nats full: the ${fillerBatches}th filler batch of 20 events was the first answered 507; recovered ${Date.now() - started} ms after the purge`,
    );
    acked.push(...stored);
    const after = await call(`${live.url}/v1/subscriptions/kept-sub/pull`, "POST", {
      max: 10,
      waitMs: 0,
    });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    const log = await readLog(live.url, "kept");
    expect(log.map((e) => e.id)).toEqual(acked.map((e) => e.id));
  });
});
