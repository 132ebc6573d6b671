/**
 * The real `switchyard serve` (built `dist/`, as `npm test` builds it) with push secrets and
 * header values set: neither its logs (debug level), `/metrics`, the API answers, the CLI's
 * `subs` output nor `switchyard export` ever show one, through deliveries, failed attempts
 * and a restart. Start refusals (another key, NATS without keys) exit 2 with one line.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretKeyRing } from "../../src/core/secret-box.js";
import { eventually } from "../support/eventually.js";
import { answerStatus, type HttpSink, startSink } from "../support/http-sink.js";
import {
  expectAbsent,
  expectDelivered,
  expectSigned,
  expectWriteOnly,
  HEADERS,
  pushBody,
  SECRET,
  SECRET_VALUES,
} from "../support/push-secrets.js";
import { api, event, uniqueName } from "../support/router.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");

function cli(args: readonly string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("no secret or header value leaves the router", () => {
  let dir: string;
  let sink: HttpSink;
  let router: RouterProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sy-leak-"));
    sink = await startSink();
    router = await startRouterProcess({
      dataDir: join(dir, "data"),
      args: ["--allow-private-endpoints", "--log-level", "debug"],
    });
  }, 60_000);
  afterAll(async () => {
    await router?.stop();
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps them out of logs, metrics, API answers, CLI output and exports", async () => {
    const http = api(router.url);
    const topic = uniqueName("leak");
    const name = uniqueName("sub");
    expect((await http.put(`/v1/topics/${topic}`, {})).status).toBe(201);
    expect((await http.put(`/v1/subscriptions/${name}`, pushBody(topic, sink.url))).status).toBe(
      201,
    );
    await expectDelivered(http, topic, sink);

    // Failed attempts (an error answer, then a refused connection) are logged and recorded.
    sink.handle(answerStatus(500, {}, "endpoint failed"));
    const failing = event({ type: "secret.fail" });
    await http.publish(topic, failing);
    await eventually(
      async () => {
        const attempts = await http.get(`/v1/subscriptions/${name}/attempts`);
        expect(attempts.body.attempts.length).toBeGreaterThan(2);
      },
      { timeoutMs: 20_000 },
    );
    const failed = sink.requests.filter((r) => r.headers["ce-id"] === failing.id);
    expect(failed.length).toBeGreaterThan(0);
    for (const request of failed) expectSigned(request);
    await http.put(`/v1/subscriptions/${name}`, {
      ...pushBody(topic, "http://127.0.0.1:9/closed"),
      push: { url: "http://127.0.0.1:9/closed", headers: HEADERS },
    });
    await http.publish(topic, event({ type: "secret.refused" }));

    // Refused updates: the problem answers must not echo the values given.
    const refused = await Promise.all([
      http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: sink.url, headers: { "x-bad": `${HEADERS.authorization}\n` } },
      }),
      http.put(`/v1/subscriptions/${name}`, {
        topic,
        push: { url: sink.url, secrets: [`${SECRET}!`], headers: { host: HEADERS["x-api-key"] } },
      }),
    ]);
    for (const answer of refused) expect(answer.status).toBe(400);

    await router.restart();
    const answers = await Promise.all(
      [
        "/v1/subscriptions",
        `/v1/subscriptions/${name}`,
        `/v1/subscriptions/${name}/attempts`,
        `/v1/topics/${topic}/events`,
        "/metrics",
      ].map(async (path) => (await http.get(path)).text),
    );
    await expectWriteOnly(http, name);
    const url = ["--url", router.url];
    const outputs = [
      cli(["subs", "get", name, ...url]),
      cli(["subs", "get", name, "--json", ...url]),
      cli(["subs", "list", ...url]),
      cli(["export", topic, ...url]),
    ];
    for (const run of outputs) expect(run.code, run.stderr).toBe(0);
    expect(outputs[0]?.stdout).toMatch(/push headers +authorization, x-api-key/);
    expect(outputs[0]?.stdout).toMatch(/signing secrets +1/);
    expect(outputs[1]?.stdout).toContain('"secretCount": 1');

    expectAbsent(
      [...refused.map((r) => r.text), ...answers].join("\n"),
      "API answers and /metrics",
    );
    expectAbsent(outputs.map((o) => o.stdout + o.stderr).join("\n"), "CLI output and exports");
    expect(router.output.length).toBeGreaterThan(0);
    expectAbsent(router.output, "the router's logs");
  });

  it("refuses a start with another key: exit 2, one line naming the missing key id", async () => {
    await router.stop();
    const other = SecretKeyRing.generateText("other");
    const run = cli(["serve", "--port", "0", "--data", join(dir, "data")], {
      SWITCHYARD_SECRET_KEY: other,
    });
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /sealed with secret key "k[0-9a-z]+", which is not in the secret keys/,
    );
    expect(lines[0]).not.toContain(other.split(":")[1]);
    for (const value of SECRET_VALUES) expect(run.stderr + run.stdout).not.toContain(value);
  });

  it("refuses the NATS engine without secret keys: exit 2, one line naming the fix", () => {
    const run = cli(
      ["serve", "--engine", "nats", "--nats-url", "nats://127.0.0.1:1", "--data", dir],
      { SWITCHYARD_SECRET_KEY: "" },
    );
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SWITCHYARD_SECRET_KEY or secretKeyFile \(--secret-key-file\)/);
  });
});
