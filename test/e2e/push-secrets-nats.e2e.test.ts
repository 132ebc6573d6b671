/**
 * Push secrets and header values on the NATS engine, through a nats-server this file starts:
 * two routers sharing one key serve the same sealed config, JetStream (every stream and KV
 * bucket, read directly, and the server's store files) holds no plaintext, a store written
 * before sealing is sealed at the next start, and a router without keys refuses to start.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretKeyError, SecretKeyRing } from "../../src/core/secret-box.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import { type NatsServers, natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import {
  expectAbsent,
  expectDelivered,
  expectWriteOnly,
  HEADERS,
  plaintextConfig,
  pushBody,
} from "../support/push-secrets.js";
import { type Api, api, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

/** Every message of every stream (KV buckets included) whose name has `prefix`, as text. */
async function jetStreamText(url: string, prefix: string): Promise<string> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const texts: string[] = [];
    for await (const info of jsm.streams.list()) {
      if (!info.config.name.includes(prefix)) continue;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
        const msg = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
        if (msg !== null) texts.push(`${msg.subject} ${Buffer.from(msg.data).toString("utf8")}`);
      }
    }
    return texts.join("\n");
  } finally {
    await nc.close();
  }
}

/** Every byte of every file under `dir` (the server's JetStream store). */
function filesText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p).toString("latin1"))
    .join("\n");
}

describe.runIf(natsServerAvailable())("push secrets on the NATS engine", () => {
  let nats: NatsServers;
  let sink: HttpSink;
  const keys = SecretKeyRing.generateText("nats1");
  const routers: TestRouter[] = [];

  beforeAll(async () => {
    [nats, sink] = await Promise.all([startNatsServer(), startSink()]);
  });
  afterAll(async () => {
    for (const r of routers) await r.dispose();
    await sink?.close();
    await nats?.close();
  });

  async function start(prefix: string, secretKeys: string | undefined): Promise<TestRouter> {
    const router = await startTestRouter({
      engine: "nats",
      nats: { url: nats.url, prefix },
      allowPrivateEndpoints: true,
      ...(secretKeys === undefined ? {} : { secretKeys }),
    });
    routers.push(router);
    return router;
  }

  async function newTopic(http: Api): Promise<string> {
    const topic = uniqueName("sec");
    expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    return topic;
  }

  it("stores only ciphertext in JetStream and serves it from every node with the key", async () => {
    const prefix = `SEC${Date.now().toString(36)}`;
    const [one, two] = [await start(prefix, keys), await start(prefix, keys)];
    const [a, b] = [api(one.url), api(two.url)];
    const topic = await newTopic(a);
    const name = uniqueName("sub");
    expect((await a.put(`/v1/subscriptions/${name}`, pushBody(topic, sink.url))).status).toBe(201);
    await expectWriteOnly(a, name);
    await expectWriteOnly(b, name);
    await expectDelivered(b, topic, sink);

    const stored = await jetStreamText(nats.url, prefix);
    expect(stored).toContain(name);
    expect(stored).toContain('"sy1:nats1:');
    expectAbsent(stored, "the JetStream streams and buckets");
    expectAbsent(filesText(nats.dir), "the nats-server store files");
  });

  it("seals a store written before sealing at the next start; another key is refused", async () => {
    const prefix = `OLD${Date.now().toString(36)}`;
    let router = await start(prefix, keys);
    const topic = await newTopic(api(router.url));
    expect((await api(router.url).put(`/v1/topics/${topic}.dlq`, {})).status).toBe(201);
    await router.close();

    const name = uniqueName("old");
    const engine = await createEngine({ kind: "nats", servers: nats.url, prefix });
    await engine.ready();
    await engine.cursors.putSubscription(plaintextConfig(name, topic, sink.url));
    await engine.close();
    expect(await jetStreamText(nats.url, prefix)).toContain(HEADERS.authorization);

    router = await start(prefix, keys);
    await expectWriteOnly(api(router.url), name);
    await expectDelivered(api(router.url), topic, sink);
    await router.close();
    const stored = await jetStreamText(nats.url, prefix);
    expect(stored).toContain('"sy1:nats1:');
    expectAbsent(stored, "the migrated JetStream streams and buckets");

    const refused = await start(prefix, SecretKeyRing.generateText("other")).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SecretKeyError);
    expect((refused as Error).message).toContain('key "nats1"');
  });

  it("refuses to start without secret keys, naming the fix", async () => {
    const refused = await start(`NOKEY${Date.now().toString(36)}`, undefined).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SecretKeyError);
    expect((refused as Error).message).toMatch(/SWITCHYARD_SECRET_KEY or secretKeyFile/);
  });
});
