import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type HttpSink, startSink } from "../support/http-sink.js";
import { type Api, api, event, startTestRouter, type TestRouter, uniqueName } from "../support/router.js";

let router: TestRouter;
let http: Api;
const sinks: HttpSink[] = [];

beforeAll(async () => {
  router = await startTestRouter({ allowPrivateEndpoints: true, autoCreateTopics: true });
  http = api(router.url);
});
afterAll(async () => {
  await router?.dispose();
  await Promise.all(sinks.map((s) => s.close()));
});

async function sink(...args: Parameters<typeof startSink>): Promise<HttpSink> {
  const s = await startSink(...args);
  sinks.push(s);
  return s;
}

describe("push smoke", () => {
  it("delivers an event in binary mode", async () => {
    const s = await sink();
    const topic = uniqueName("t");
    const name = uniqueName("s");
    await http.put(`/v1/topics/${topic}`, {});
    const res = await http.put(`/v1/subscriptions/${name}`, { topic, push: { url: s.url } });
    expect(res.status).toBe(201);
    await http.publish(topic, event({ data: { hello: 1 } }));
    await eventually(() => expect(s.requests).toHaveLength(1));
    expect(s.requests[0]?.text).toBe('{"hello":1}');
    expect(s.requests[0]?.headers["ce-type"]).toBe("test.happened");
    await eventually(async () => {
      const got = await http.get(`/v1/subscriptions/${name}`);
      expect(got.body.stats.acked).toBe(1);
    });
    const attempts = await http.get(`/v1/subscriptions/${name}/attempts`);
    expect(attempts.body.attempts).toHaveLength(1);
    expect(attempts.body.attempts[0]).toMatchObject({ attempt: 1, status: 204 });
  });
});
