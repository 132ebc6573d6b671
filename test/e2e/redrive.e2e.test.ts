/**
 * Redrive jobs are kept in the store's Catalog: a finished job and one cut off by a restart
 * are both answered by the restarted router (the cut-off one `failed`, with what it moved),
 * and redriving again moves exactly the rest.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { api, event, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

const dataDir = mkdtempSync(join(tmpdir(), "switchyard-redrive-e2e-"));
let router: TestRouter | undefined;
const http = api(() => router?.url ?? "");

afterAll(async () => {
  await router?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A subscription whose `n` events were all rejected to its dead-letter topic. */
async function deadLettered(n: number): Promise<{ name: string; ids: string[] }> {
  const topic = uniqueName("rd");
  const name = uniqueName("s");
  await http.put(`/v1/topics/${topic}`, {});
  const events = Array.from({ length: n }, () => event());
  expect((await http.publish(topic, events)).status).toBe(201);
  await http.put(`/v1/subscriptions/${name}`, { topic, start: "earliest" });
  const pulled = (await http.post(`/v1/subscriptions/${name}/pull`, { max: n })).body.deliveries;
  await http.post(`/v1/subscriptions/${name}/reject`, {
    ackIds: pulled.map((d: { ackId: string }) => d.ackId),
    reason: "bug",
  });
  return { name, ids: events.map((e) => e.id as string) };
}

const job = (name: string, id: string) => http.get(`/v1/subscriptions/${name}/redrives/${id}`);

describe("redrive jobs across a router restart", () => {
  it("a done job and a job cut off by the restart are both answered after it", async () => {
    router = await startTestRouter({ dataDir });
    const fast = await deadLettered(2);
    const quick = (await http.post(`/v1/subscriptions/${fast.name}/redrive`, {})).body.redrive;
    await eventually(async () => expect((await job(fast.name, quick)).body.state).toBe("done"));

    const slow = await deadLettered(6);
    // One event at once, the next only after 20 s: the restart cuts the job off.
    const started = await http.post(`/v1/subscriptions/${slow.name}/redrive`, {
      chunkSize: 1,
      ratePerSecond: 0.05,
    });
    expect(started.status).toBe(202);
    const id = started.body.redrive;
    await eventually(async () => expect((await job(slow.name, id)).body.moved).toBe(1));
    await router.close();

    router = await startTestRouter({ dataDir });
    expect((await job(fast.name, quick)).body).toMatchObject({ state: "done", moved: 2 });
    const cut = await job(slow.name, id);
    expect(cut.status).toBe(200);
    expect(cut.body).toMatchObject({ redrive: id, state: "failed", matched: 6, moved: 1 });
    expect(typeof cut.body.error).toBe("string");
    expect(typeof cut.body.finishedAt).toBe("string");

    const rest = await http.post(`/v1/subscriptions/${slow.name}/redrive`, {});
    expect(rest.body.matched).toBe(5);
    await eventually(async () =>
      expect((await job(slow.name, rest.body.redrive)).body).toMatchObject({
        state: "done",
        moved: 5,
      }),
    );
    const pulled = (await http.post(`/v1/subscriptions/${slow.name}/pull`, { max: 20 })).body
      .deliveries as { event: { id: string } }[];
    expect(pulled.map((d) => d.event.id).sort()).toEqual([...slow.ids].sort());
  });
});
