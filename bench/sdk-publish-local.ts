/**
 * The SDK's CPU per batched event with no router and no sockets: `fetch` is answered in this
 * process (201, one result per event), so what is measured is the SDK's own publish path
 * (building, validating, serialising, batching, settling) plus the `publish-batched` loop and
 * a `Response` per batch. Steadier than `sdk-publish.ts` on a shared machine: CPU time of one
 * process, no waiting on another. Run it under `node --cpu-prof` to profile the SDK alone.
 *
 *   node bench/sdk-publish-local.ts [--events N] [--rounds N]
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as Sdk from "../src/client/index.ts";
import { windowed } from "./load.ts";
import { cloudEventData, EVENT_SOURCE, EVENT_TYPE } from "./payload.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "300000" },
    rounds: { type: "string", default: "3" },
  },
});
const DIST_CLIENT = join(dirname(fileURLToPath(import.meta.url)), "../dist/client/index.js");
if (!existsSync(resolve(DIST_CLIENT))) throw new Error("run `npm run build` first");
const sdk = (await import(pathToFileURL(DIST_CLIENT).href)) as typeof Sdk;

// Each event's JSON starts with its specversion (buildEvent sets it first): counting that
// marker counts a batch's events without parsing the body.
const MARKER = '{"specversion"';
const answers = new Map<number, string>();
function answerFor(count: number): string {
  let text = answers.get(count);
  if (text === undefined) {
    const one = '{"id":"x","offset":1,"duplicate":false}';
    text = `{"events":[${Array.from({ length: count }, () => one).join(",")}]}`;
    answers.set(count, text);
  }
  return text;
}
const fetch = async (_url: string, init: RequestInit): Promise<Response> => {
  const body = String(init.body);
  let count = 0;
  for (let at = body.indexOf(MARKER); at >= 0; at = body.indexOf(MARKER, at + MARKER.length))
    count++;
  return new Response(answerFor(count), {
    status: 201,
    headers: { "content-type": "application/json" },
  });
};

const client = sdk.createClient({ url: "http://127.0.0.1:1", source: EVENT_SOURCE, fetch });
const publish = (i: number) =>
  client.publish("bench", { type: EVENT_TYPE, data: cloudEventData({ seq: i }) }).then(() => {});
const events = Number(values.events);
await windowed(20_000, 5_000, 60_000, publish);
for (let round = 1; round <= Number(values.rounds); round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await windowed(events, 5_000, 120_000, publish);
  const used = process.cpuUsage(cpu);
  if (result.errors > 0) throw new Error(`${result.errors} publishes failed: ${result.firstError}`);
  const us = (used.user + used.system) / result.done;
  const rate = result.done / ((performance.now() - started) / 1000);
  console.log(`round ${round}: ${us.toFixed(2)} µs CPU/event, ${Math.round(rate)} events/s`);
}
await client.close();
