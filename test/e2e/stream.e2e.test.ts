import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/eventually.js";
import {
  api,
  event,
  expectProblem,
  routerPerFile,
  startTestRouter,
  uniqueName,
} from "../support/router.js";

const router = routerPerFile();
const http = api(() => router.url);

// biome-ignore lint/suspicious/noExplicitAny: frames are JSON read loosely by tests
type Frame = any;

/** A stream client that records every frame and close. */
class StreamClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  readonly socket: WebSocket;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on("message", (data) => this.frames.push(JSON.parse(data.toString())));
    this.socket.on("close", (code) => {
      this.closeCode = code;
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  of(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  deliveries(): Frame[] {
    return this.of("deliveries").flatMap((f) => f.deliveries);
  }

  close(): void {
    this.socket.close();
  }
}

async function setup(n: number): Promise<{ topic: string; name: string; ids: string[] }> {
  const topic = uniqueName("ws");
  const name = uniqueName("s");
  await http.put(`/v1/topics/${topic}`, {});
  const events = Array.from({ length: n }, () => event());
  if (n > 0) await http.publish(topic, events);
  await http.put(`/v1/subscriptions/${name}`, { topic, start: "earliest" });
  return { topic, name, ids: events.map((e) => e.id as string) };
}

async function connect(name: string): Promise<StreamClient> {
  const client = new StreamClient(
    `${router.url.replace("http", "ws")}/v1/subscriptions/${name}/stream`,
  );
  await client.opened();
  return client;
}

describe("WebSocket stream", () => {
  it("sends exactly as many deliveries as the credit allows", async () => {
    const { topic, name, ids } = await setup(5);
    const client = await connect(name);
    try {
      client.send({ type: "credit", n: 2 });
      await eventually(() => expect(client.deliveries()).toHaveLength(2));
      // With the credit used up the stream holds no further lease: the other 3 are free for
      // a pull, and the stream receives nothing more.
      const pulled = await http.post(`/v1/subscriptions/${name}/pull`, { max: 10 });
      expect(pulled.body.deliveries).toHaveLength(3);
      expect(client.deliveries()).toHaveLength(2);
      const seen = [...client.deliveries(), ...pulled.body.deliveries].map(
        (d: Frame) => d.event.id,
      );
      expect(seen.sort()).toEqual([...ids].sort());

      client.send({ type: "credit", n: 10 });
      const later = event();
      await http.publish(topic, later);
      await eventually(() => expect(client.deliveries()).toHaveLength(3));
      expect(client.deliveries()[2].event.id).toBe(later.id);
    } finally {
      client.close();
    }
  });

  it("delivers new events while credit remains, and settles with results frames", async () => {
    const { topic, name } = await setup(0);
    const client = await connect(name);
    try {
      client.send({ type: "credit", n: 100 });
      const sent = event({ correlationid: "c-1" });
      await http.publish(topic, sent);
      await eventually(() => expect(client.deliveries()).toHaveLength(1));
      const [d] = client.deliveries();
      expect(d.event).toMatchObject({ id: sent.id, correlationid: "c-1", topic });
      client.send({ type: "ack", id: 7, ackIds: [d.ackId] });
      await eventually(() => expect(client.of("results")).toHaveLength(1));
      expect(client.of("results")[0]).toEqual({
        type: "results",
        op: "ack",
        id: 7,
        results: [{ ackId: d.ackId, status: "ok" }],
      });
      expect((await http.get(`/v1/subscriptions/${name}`)).body.stats.acked).toBe(1);
    } finally {
      client.close();
    }
  });

  it("nack, extend and reject frames settle too", async () => {
    const { topic, name } = await setup(3);
    const client = await connect(name);
    try {
      client.send({ type: "credit", n: 3 });
      await eventually(() => expect(client.deliveries()).toHaveLength(3));
      const [a, b, c] = client.deliveries();
      client.send({ type: "extend", ackIds: [a.ackId] });
      client.send({ type: "reject", ackIds: [b.ackId], reason: "bad data" });
      client.send({ type: "nack", ackIds: [c.ackId], delayMs: 60_000 });
      await eventually(() => expect(client.of("results")).toHaveLength(3));
      expect(client.of("results").map((r: Frame) => [r.op, r.results[0].status])).toEqual([
        ["extend", "ok"],
        ["reject", "ok"],
        ["nack", "ok"],
      ]);
      const dead = await http.get(`/v1/topics/${topic}.${name}.dlq/events`);
      expect(dead.body.events[0]).toMatchObject({ id: b.event.id, deadletterreason: "bad data" });
    } finally {
      client.close();
    }
  });

  it("answers bad frames with an error frame and stays open", async () => {
    const { topic, name } = await setup(0);
    const client = await connect(name);
    try {
      client.send("{not json");
      client.send({ type: "credit", n: -1 });
      client.send({ type: "credit", n: 1.5 });
      client.send({ type: "dance" });
      client.send({ type: "ack", id: "x", ackIds: ["garbage"] });
      client.send({ type: "reject", ackIds: ["0.1.1"] });
      client.send([1, 2]);
      await eventually(() => expect(client.of("error")).toHaveLength(7));
      const errors = client.of("error");
      expect(errors.map((e: Frame) => e.problem.code)).toEqual([
        "invalid_json",
        "invalid_request",
        "invalid_request",
        "invalid_request",
        "invalid_ack_id",
        "invalid_request",
        "invalid_request",
      ]);
      expect(errors[1].problem.errors[0].pointer).toBe("/n");
      expect(errors[4]).toMatchObject({ id: "x", problem: { errors: [{ pointer: "/ackIds/0" }] } });
      expect(errors[5].problem.errors[0].pointer).toBe("/reason");

      client.send({ type: "credit", n: 1 });
      await http.publish(topic, event());
      await eventually(() => expect(client.deliveries()).toHaveLength(1));
      expect(client.closeCode).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("leases held by a closed stream expire and are redelivered", async () => {
    const { name, ids } = await setup(1);
    await http.put(`/v1/subscriptions/${name}`, {
      topic: (await http.get(`/v1/subscriptions/${name}`)).body.topic,
      ackTimeoutMs: 200,
    });
    const client = await connect(name);
    client.send({ type: "credit", n: 1 });
    await eventually(() => expect(client.deliveries()).toHaveLength(1));
    client.close();
    const redelivered = await eventually(async () => {
      const res = await http.post(`/v1/subscriptions/${name}/pull`, {});
      expect(res.body.deliveries).toHaveLength(1);
      return res.body.deliveries[0];
    });
    expect(redelivered).toMatchObject({ attempt: 2, event: { id: ids[0] } });
  });

  it("answers 404 before the upgrade for an unknown subscription, 426 without upgrade", async () => {
    const client = new StreamClient(
      `${router.url.replace("http", "ws")}/v1/subscriptions/${uniqueName("none")}/stream`,
    );
    const status = await new Promise<number>((resolve) => {
      client.socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      client.socket.on("error", () => resolve(-1));
    });
    expect(status).toBe(404);
    const { name } = await setup(0);
    expectProblem(await http.get(`/v1/subscriptions/${name}/stream`), 426, "upgrade_required");
  });

  it("closes streams with 1001 when the router closes", async () => {
    const own = await startTestRouter();
    const ownHttp = api(own.url);
    const topic = uniqueName("ws");
    const name = uniqueName("s");
    await ownHttp.put(`/v1/topics/${topic}`, {});
    await ownHttp.put(`/v1/subscriptions/${name}`, { topic });
    const client = new StreamClient(
      `${own.url.replace("http", "ws")}/v1/subscriptions/${name}/stream`,
    );
    await client.opened();
    client.send({ type: "credit", n: 10 });
    await own.dispose();
    await eventually(() => expect(client.closeCode).toBe(1001));
  });
});

describe("stream during shutdown", () => {
  it("close() resolves while a client keeps reconnecting to the stream", async () => {
    const own = await startTestRouter();
    const ownHttp = api(own.url);
    const topic = uniqueName("reconnect");
    const sub = uniqueName("s");
    await ownHttp.put(`/v1/topics/${topic}`, {});
    await ownHttp.put(`/v1/subscriptions/${sub}`, { topic });
    const url = `${own.url.replace("http", "ws")}/v1/subscriptions/${sub}/stream`;
    let stopped = false;
    const refusals: number[] = [];
    let opened = 0;
    const connect = (): void => {
      if (stopped) return;
      const socket = new WebSocket(url);
      socket.on("unexpected-response", (_req, res) => {
        refusals.push(res.statusCode ?? 0);
        res.resume();
        res.on("end", () => socket.terminate());
      });
      socket.on("open", () => opened++);
      socket.on("error", () => {});
      socket.on("close", () => setTimeout(connect, 10));
    };
    connect();
    await eventually(() => expect(opened).toBeGreaterThan(0));
    const closed = await Promise.race([
      own.close().then(() => "closed"),
      new Promise((resolve) => setTimeout(() => resolve("still open after 10 s"), 10_000)),
    ]);
    stopped = true;
    expect(closed).toBe("closed");
    expect(refusals.every((status) => status === 503)).toBe(true);
    await own.dispose();
  });
});
