/**
 * A Catalog watch on NATS makes staleness visible: while the server is down no `synced`
 * marker newer than the outage comes, and once it is back the watch confirms again and
 * carries on with changes made by another node, nothing missed.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { natsServerAvailable, startNatsServer } from "../../../test/support/nats-server.js";
import { CATALOG_SYNC_MS, type CatalogEvent } from "../engine.js";
import { NatsEngine } from "./index.js";

describe.runIf(natsServerAvailable())("nats catalog watch across a server outage", () => {
  it("stops confirming while NATS is away, confirms again and misses nothing after", async () => {
    const nats = await startNatsServer();
    const server = nats.servers[0];
    if (server === undefined) throw new Error("no server");
    const prefix = `CW${randomBytes(3).toString("hex")}`;
    const open = () => NatsEngine.open({ servers: nats.url, prefix, timeoutMs: 2_000 });
    const watcher = await open();
    const writer = await open();
    const events: CatalogEvent[] = [];
    const controller = new AbortController();
    const done = (async () => {
      for await (const e of watcher.catalog.watch("things", controller.signal)) events.push(e);
    })();
    const syncedAfter = (t: number) => events.some((e) => e.type === "synced" && e.at > t);
    try {
      await writer.catalog.put("things", "before", { v: 1 });
      await eventually(() => expect(events.some((e) => e.type === "change")).toBe(true));
      await server.kill();
      const downAt = Date.now();
      await delay(4 * CATALOG_SYNC_MS);
      expect(syncedAfter(downAt)).toBe(false);
      await server.start();
      const upAt = Date.now();
      await eventually(() => expect(syncedAfter(upAt)).toBe(true), { timeoutMs: 20_000 });
      const revision = await eventually(() => writer.catalog.put("things", "after", { v: 2 }), {
        timeoutMs: 20_000,
        intervalMs: 250,
      });
      await eventually(
        () =>
          expect(
            events.some((e) => e.type === "change" && e.key === "after" && e.revision === revision),
          ).toBe(true),
        { timeoutMs: 10_000 },
      );
      const keys = events.flatMap((e) => (e.type === "change" ? [e.key] : []));
      expect(keys).toEqual(["before", "after"]);
    } finally {
      controller.abort();
      await done;
      await writer.close();
      await watcher.close();
      await nats.close();
    }
  }, 90_000);
});
