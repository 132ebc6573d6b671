/**
 * API fuzzing: hostile requests for every route of the router's own route table, over real
 * HTTP on loopback, against a real router seeded with real resources. Properties: never a
 * 5xx, never a hang or a crash (`/healthz` and `/readyz` answer after every batch), every
 * error a problem+json with a catalogue code, and a rejected request writes nothing (the
 * store's topics, stats, subscriptions and positions are the same before and after).
 *
 * Short form in `npm test` (a fixed seed, a few thousand inputs); `SWITCHYARD_FUZZ_LONG=1`
 * (`npm run test:fuzz`) runs 1,000,000 HTTP inputs with a random seed. fast-check prints
 * the seed and path of a failure: rerun it with `SWITCHYARD_FUZZ_SEED=<seed>`.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractBreach, problemBreach } from "./answer-checks.js";
import { hostileSegment } from "./arbitraries.js";
import { FUZZ_MAX_BODY_BYTES, type FuzzRouter, startFuzzRouter } from "./fuzz-router.js";
import { type RawResponse, send } from "./raw-http.js";
import { anyRequest, describeCase, type FuzzCase, routeSpecs } from "./routes.js";
import {
  type StateSnapshot,
  sameState,
  settledSnapshot,
  snapshot,
  stateDiff,
} from "./state-snapshot.js";
import { hostileFrame, runStream } from "./ws-frames.js";

const LONG = process.env.SWITCHYARD_FUZZ_LONG === "1";
const HTTP_RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? (LONG ? 1_000_000 : 3_000));
const WS_RUNS = Number(process.env.SWITCHYARD_FUZZ_WS_RUNS ?? (LONG ? 20_000 : 200));
const SEED = Number(process.env.SWITCHYARD_FUZZ_SEED ?? (LONG ? Date.now() % 2 ** 31 : 20_261_203));
/** Inputs named in a failure report, the failing one included. */
const RECENT_INPUTS = 6;
/** Inputs between two liveness checks. */
const BATCH = 250;
const HOUR = 3_600_000;

let router: FuzzRouter;

beforeAll(async () => {
  router = await startFuzzRouter();
});

afterAll(async () => {
  await router?.close();
});

function shown(response: RawResponse): string {
  const type = response.headers["content-type"] ?? "(none)";
  return `${response.status} ${type} ${response.body.toString("utf8").slice(0, 300)}`;
}

function request(c: FuzzCase): string {
  return describeCase(c.route, c.label, c.request);
}

async function expectAlive(): Promise<void> {
  for (const path of ["/healthz", "/readyz"]) {
    const res = await send(router.port, {
      method: "GET",
      target: Buffer.from(path),
      headers: [],
      body: Buffer.alloc(0),
    });
    if (res.status !== 200) throw new Error(`${path} answered ${shown(res)} after a batch`);
  }
}

function progress(what: string, n: number, started: number): void {
  const seconds = (Date.now() - started) / 1000;
  console.log(`fuzz: ${n} ${what} in ${seconds.toFixed(0)} s (${(n / seconds).toFixed(0)}/s)`);
}

function routeKeys(): string[] {
  return router.routes.map((r) => `${r.method} ${r.url}`).sort();
}

describe("API fuzzing", () => {
  it("has a generator for every route of the route table and of /openapi.json, and none extra", async () => {
    const specs = Object.keys(routeSpecs(router.fixtures)).sort();
    expect(specs).toEqual(routeKeys());
    const res = await fetch(`${router.url}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => ["get", "put", "post", "delete", "patch"].includes(m))
          // `/ui/{path}` is the wildcard route `/ui/*`.
          .map(
            (m) =>
              `${m.toUpperCase()} ${path.replace("{path}", "*").replace(/\{([^}]+)\}/g, ":$1")}`,
          ),
      )
      .sort();
    for (const route of documented) expect(specs).toContain(route);
  });

  it(
    `answers ${HTTP_RUNS} hostile HTTP requests with problems: no 5xx, no hang, no partial write`,
    async () => {
      const specs = routeSpecs(router.fixtures);
      if (LONG) console.log(`fuzz: ${HTTP_RUNS} HTTP inputs, seed ${SEED}`);
      // The router's own account of the push subscription (its state, the circuit's).
      const explain = async () => {
        const sub = `${router.url}/v1/subscriptions/${router.fixtures.pushSubscription}`;
        const res = await fetch(sub);
        const attempts = await fetch(`${sub}/attempts?limit=3`);
        return [
          `GET the push subscription: ${res.status} ${await res.text()}`,
          `its last attempts: ${attempts.status} ${(await attempts.text()).slice(0, 3_000)}`,
        ].join("\n");
      };
      let state: StateSnapshot = await settledSnapshot(router.engine, 15, 10_000, explain);
      let n = 0;
      const started = Date.now();
      // The inputs just before a failure: a late effect of one of them shows up as the next
      // input's breach, so the report names them too.
      const recent: string[] = [];
      const remember = (line: string) => {
        recent.push(line);
        if (recent.length > RECENT_INPUTS) recent.shift();
      };
      const property = fc.asyncProperty(anyRequest(specs, FUZZ_MAX_BODY_BYTES), async (c) => {
        try {
          const response = await send(router.port, c.request);
          remember(`${request(c)} -> ${response.status}`);
          const breach = contractBreach(
            response,
            c.route.endsWith("/stream"),
            c.request.method === "HEAD",
          );
          if (breach !== null)
            throw new Error(`${request(c)}: ${breach}\n  answer: ${shown(response)}`);
          if (response.status >= 400) {
            const after = await snapshot(router.engine);
            if (!sameState(state, after))
              throw new Error(
                `${request(c)}: answered ${shown(response)} but changed the store:\n${stateDiff(state, after)}\n  inputs before it:\n    ${recent.slice(0, -1).join("\n    ")}`,
              );
          } else {
            // A success that wrote nothing and started nothing leaves the known state as it is.
            const now = await snapshot(router.engine);
            if (c.background || !sameState(state, now)) {
              await router.restore();
              state = await settledSnapshot(router.engine, c.background ? 15 : 3, 10_000, explain);
            }
          }
          if (++n % BATCH === 0) await expectAlive();
          if (LONG && n % 10_000 === 0) progress("HTTP inputs", n, started);
        } catch (error) {
          // Shrinking replays inputs: start each replay from a known state.
          await router.restore();
          state = await settledSnapshot(router.engine, 15, 10_000, explain);
          throw error;
        }
      });
      await fc.assert(property, { numRuns: HTTP_RUNS, seed: SEED, endOnFailure: !LONG });
      await expectAlive();
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `fuzz: ${n} HTTP inputs in ${seconds.toFixed(1)} s (${(n / seconds).toFixed(0)}/s), seed ${SEED}`,
      );
    },
    LONG ? 12 * HOUR : Math.max(180_000, HTTP_RUNS * 40),
  );

  it(
    `answers ${WS_RUNS} hostile WebSocket sessions with error frames or a clear close`,
    async () => {
      const { pullSubscription, pushSubscription, ackIds } = router.fixtures;
      const printable = hostileSegment.filter(
        (b) => /^[\x21-\x7e]+$/.test(b.toString("latin1")) && b.length < 2_000,
      );
      const name = fc.oneof(
        { weight: 6, arbitrary: fc.constant(pullSubscription) },
        { weight: 1, arbitrary: fc.constant(pushSubscription) },
        { weight: 1, arbitrary: printable.map((b) => b.toString("latin1")) },
      );
      const frames = fc.array(hostileFrame(ackIds, FUZZ_MAX_BODY_BYTES), {
        minLength: 1,
        maxLength: 5,
      });
      // Codes a peer may close with for bad input: protocol error, unsupported data, invalid
      // payload, policy, too big; 4404 when the subscription is unknown or gone.
      const clearCodes = new Set([1002, 1003, 1007, 1008, 1009, 4404]);
      const started = Date.now();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(name, frames, async (sub, list) => {
          const url = `ws://127.0.0.1:${router.port}/v1/subscriptions/${sub}/stream`;
          const outcome = await runStream(url, list);
          const what = `${sub}: ${list.map((f) => f.label).join(" | ")}`;
          if (outcome.refused !== undefined) {
            const { status, contentType, body } = outcome.refused;
            if (status >= 500 || !contentType.startsWith("application/problem+json"))
              throw new Error(
                `${what}: upgrade refused with ${status} ${contentType} ${body.slice(0, 200)}`,
              );
          }
          for (const p of outcome.errorProblems) {
            const breach = problemBreach(p);
            if (breach !== null)
              throw new Error(`${what}: ${breach}: ${JSON.stringify(p).slice(0, 300)}`);
          }
          if (outcome.refused === undefined && !outcome.probeAnswered) {
            const code = outcome.closeCode;
            if (code === undefined || !clearCodes.has(code))
              throw new Error(`${what}: closed with ${String(code)}, not a clear close code`);
          }
          if (++n % BATCH === 0) await expectAlive();
          if (LONG && n % 1_000 === 0) progress("WebSocket sessions", n, started);
        }),
        { numRuns: WS_RUNS, seed: SEED, endOnFailure: !LONG },
      );
      await expectAlive();
      const seconds = (Date.now() - started) / 1000;
      console.log(`fuzz: ${n} WebSocket sessions in ${seconds.toFixed(1)} s, seed ${SEED}`);
    },
    LONG ? 12 * HOUR : Math.max(120_000, WS_RUNS * 100),
  );
});
