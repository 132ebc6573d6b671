import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { eventually } from "../../test/support/eventually.js";
import { Broker } from "../broker/broker.js";
import { SecretKeyRing } from "../core/secret-box.js";
import { createEngine } from "../engine/create-engine.js";
import type { Engine } from "../engine/engine.js";
import { StreamHub } from "./stream.js";
import { StreamSession } from "./stream-session.js";

const HEARTBEAT_MS = 50;
let dir: string;
let engine: Engine;
let wss: WebSocketServer;
let hub: StreamHub;
const shutdown = new AbortController();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-heartbeat-"));
  engine = await createEngine({ kind: "sqlite", dataDir: dir });
  const broker = new Broker({ engine, secretKeys: SecretKeyRing.generate() });
  await broker.putTopic("hb", {});
  await broker.putSubscription("hb-sub", { topic: "hb" });
  hub = new StreamHub(HEARTBEAT_MS);
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket) =>
    hub.open(new StreamSession(socket, broker, "hb-sub", shutdown.signal)),
  );
  await new Promise((resolve) => wss.once("listening", resolve));
});

afterAll(async () => {
  shutdown.abort();
  await hub.closeAll(1001, 500);
  await new Promise((resolve) => wss.close(resolve));
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(autoPong: boolean): { socket: WebSocket; closed: Promise<number> } {
  const { port } = wss.address() as AddressInfo;
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { autoPong });
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  return { socket, closed };
}

describe("stream heartbeat", () => {
  it("drops a peer that stops answering pings, keeps one that answers", async () => {
    const silent = connect(false);
    const alive = connect(true);
    await Promise.all([silent, alive].map((c) => new Promise((r) => c.socket.once("open", r))));
    expect(await silent.closed).toBe(1006);
    await eventually(() => expect(hub.size).toBe(1));
    // Bound for the negative check: ten heartbeat periods.
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 10));
    expect(alive.socket.readyState).toBe(WebSocket.OPEN);
    alive.socket.close();
  });
});
