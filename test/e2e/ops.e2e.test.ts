import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE } from "../../src/core/errors.js";
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

describe("operations endpoints", () => {
  it("answers /healthz and /readyz", async () => {
    expect((await http.get("/healthz")).body).toEqual({ status: "ok" });
    const ready = await http.get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", engine: "sqlite" });
  });

  it("reports version, engine and capabilities at /v1/info", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const info = await http.get("/v1/info");
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      name: "switchyard",
      version: pkg.version,
      engine: "sqlite",
      capabilities: { atomicBatch: true },
    });
  });

  it("exposes Prometheus metrics for publishes, deliveries, acks, lag and HTTP durations", async () => {
    const topic = uniqueName("m");
    const sub = uniqueName("s");
    await http.put(`/v1/topics/${topic}`, {});
    await http.put(`/v1/subscriptions/${sub}`, { topic, start: "earliest" });
    await http.publish(topic, [event(), event(), event()]);
    const pulled = await http.post(`/v1/subscriptions/${sub}/pull`, { max: 2 });
    await http.post(`/v1/subscriptions/${sub}/ack`, { ackIds: [pulled.body.deliveries[0].ackId] });
    await http.post(`/v1/subscriptions/${sub}/reject`, {
      ackIds: [pulled.body.deliveries[1].ackId],
      reason: "x",
    });

    const res = await http.get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const t = `topic="${topic}"`;
    const s = `subscription="${sub}"`;
    expect(res.text).toContain(`switchyard_published_events_total{${t}} 3`);
    expect(res.text).toMatch(new RegExp(`switchyard_published_bytes_total\\{${t}\\} \\d+`));
    expect(res.text).toContain(`switchyard_deliveries_total{${s}} 2`);
    expect(res.text).toContain(`switchyard_acks_total{${s}} 1`);
    expect(res.text).toContain(`switchyard_rejects_total{${s}} 1`);
    expect(res.text).toContain(`switchyard_dead_letters_total{${s},${t}} 1`);
    expect(res.text).toContain(`switchyard_subscription_lag{${s},${t}} 1`);
    expect(res.text).toContain(`switchyard_topic_events{${t}} 3`);
    expect(res.text).toContain("# TYPE switchyard_http_request_duration_seconds histogram");
    // Label order carries no meaning in the text format (prom-client writes `le` first).
    const labels = [
      'le="+Inf"',
      'method="POST"',
      'route="/v1/topics/:topic/events"',
      'status="201"',
    ];
    const inf = res.text
      .split("\n")
      .find(
        (l) =>
          l.startsWith("switchyard_http_request_duration_seconds_bucket{") &&
          labels.every((label) => l.includes(label)),
      );
    expect(inf).toMatch(/\} [1-9]\d*$/);
  });

  it("serves an OpenAPI 3.1 document with the problem schema and every error code", async () => {
    const res = await http.get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.components.schemas.Problem.properties.code.enum.sort()).toEqual(
      Object.keys(ERROR_CATALOGUE).sort(),
    );
    expect(Object.keys(res.body.paths)).toContain("/v1/topics/{topic}/events");
  });

  it("maps unknown routes to 404 and wrong methods to 405 problems", async () => {
    expectProblem(await http.get("/v2/nothing"), 404, "route_not_found");
    const wrong = await http.call("PATCH", "/v1/topics");
    expectProblem(wrong, 405, "method_not_allowed");
    expect(wrong.headers.get("allow")).toBe("GET");
    expectProblem(await http.call("POST", "/healthz"), 405, "method_not_allowed");
  });
});

describe("graceful close", () => {
  it("finishes in-flight requests, refuses new ones, and ends long polls early", async () => {
    const own = await startTestRouter();
    const ownHttp = api(own.url);
    const topic = uniqueName("close");
    const sub = uniqueName("s");
    await ownHttp.put(`/v1/topics/${topic}`, {});
    await ownHttp.put(`/v1/subscriptions/${sub}`, { topic });
    const longPoll = ownHttp.post(`/v1/subscriptions/${sub}/pull`, { waitMs: 30_000 });
    await eventually(async () =>
      expect((await ownHttp.get("/metrics")).text).toContain("switchyard_pulls_waiting 1\n"),
    );
    const publishes = Array.from({ length: 50 }, (_, i) =>
      ownHttp.publish(topic, event({ data: { i } })),
    );
    const started = Date.now();
    const closing = own.close();
    const results = await Promise.allSettled(publishes);
    await closing;
    expect(Date.now() - started).toBeLessThan(10_000);
    const poll = await longPoll;
    expect(poll.status === 200 ? poll.body.deliveries : poll.body.code).toEqual(
      poll.status === 200 ? [] : "shutting_down",
    );
    // Every publish either committed (201) or was refused whole (503 or a closed connection).
    const committed = results.filter(
      (r) => r.status === "fulfilled" && r.value.status === 201,
    ).length;
    for (const r of results)
      if (r.status === "fulfilled" && r.value.status !== 201)
        expectProblem(r.value, 503, "shutting_down");
    await expect(own.close()).resolves.toBeUndefined();
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();

    const reopened = await startTestRouter({ dataDir: own.dataDir });
    try {
      const stats = (await api(reopened.url).get(`/v1/topics/${topic}`)).body.stats;
      expect(stats.events).toBe(committed);
    } finally {
      await reopened.dispose();
    }
  });
});
