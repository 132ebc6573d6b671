/** Command-line options of `npm run bench -- …`. */

import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PAYLOADS, type Payload } from "./payload.ts";

export interface BenchOptions {
  readonly runs: number;
  readonly quick: boolean;
  /** Scenario names to run; empty means all. */
  readonly scenarios: readonly string[];
  readonly fsync: "always" | "interval";
  readonly engine: string;
  /** Systems run side by side with Switchyard (`--compare nats,rabbitmq,redis`). */
  readonly compare: readonly string[];
  readonly out: string;
  readonly dataRoot: string;
  /** Write a CPU profile of each router process into `<out>/profiles/`. */
  readonly profile: boolean;
  /** Run the router with auth: every request carries an admin API key. */
  readonly auth: boolean;
  /** The benchmark topics' schema mode; warn/enforce register a schema for the event type. */
  readonly schemas: "off" | "warn" | "enforce";
  /** Run the router with tracing on, exporting OTLP to a local receiver that discards. */
  readonly tracing: boolean;
  /** `correlated`/`subjected`: events carry a `correlationid`/`subject`; `indexed`/`subjects`: and topics index it. */
  readonly payload: Payload;
  /** The SDK publish linger of single publishes (latency scenarios); absent: the SDK default. */
  readonly lingerMs: number | undefined;
  /** Run the CPU budget (bench/budget.ts) instead of the scenarios, judged against `baseline`. */
  readonly budget: boolean;
  /** With `budget`: write the measured figures to `baseline` instead of judging them. */
  readonly updateBaseline: boolean;
  readonly baseline: string;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --runs N              runs per scenario; the median is reported (default 3)
  --quick               small counts: a smoke test of the harness, not a measurement
  --scenario NAME       run only this scenario (repeatable); default: all
  --fsync always|interval  the router's durability setting (default always)
  --engine NAME         the router's engine (default sqlite)
  --compare LIST        also run other brokers side by side (comma-separated names)
  --out DIR             where the JSON goes (default bench/results)
  --data-root DIR       where data directories are created (default the OS temp dir)
  --profile             write a CPU profile of each router process into <out>/profiles
  --auth                run the router with auth; every request carries an API key
  --schemas off|warn|enforce  topics validate events against a registered schema (default off)
  --tracing             the router traces (OTEL_* set), exporting to a local receiver that discards
  --payload plain|correlated|indexed|subjected|subjects|traced  events carry a correlationid
                        (one per 10 events), and with indexed the topics keep the correlationid
                        index; subjected/subjects likewise with a subject and the subject index;
                        traced: subject, partitionkey, correlationid and traceparent, both
                        indexes (default plain)
  --linger MS           the SDK's publish linger for single publishes (latency, push-latency);
                        default the SDK's (5 ms)
  --budget              measure router CPU µs/event of the budget scenarios and fail (exit 1)
                        on a regression above the tolerance against --baseline
  --update-baseline     run the budget and write its figures to --baseline (implies --budget)
  --baseline FILE       the budget's baseline (default bench/baseline.json)
  --help`;

const HERE = dirname(fileURLToPath(import.meta.url));

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: "string", default: "3" },
      quick: { type: "boolean", default: false },
      scenario: { type: "string", multiple: true, default: [] },
      fsync: { type: "string", default: "always" },
      engine: { type: "string", default: "sqlite" },
      compare: { type: "string", default: "" },
      out: { type: "string", default: join(HERE, "results") },
      "data-root": { type: "string", default: tmpdir() },
      profile: { type: "boolean", default: false },
      auth: { type: "boolean", default: false },
      schemas: { type: "string", default: "off" },
      tracing: { type: "boolean", default: false },
      payload: { type: "string", default: "plain" },
      linger: { type: "string" },
      budget: { type: "boolean", default: false },
      "update-baseline": { type: "boolean", default: false },
      baseline: { type: "string", default: join(HERE, "baseline.json") },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!(PAYLOADS as readonly string[]).includes(values.payload))
    throw new Error(`--payload must be one of ${PAYLOADS.join(", ")}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
  if (values.fsync !== "always" && values.fsync !== "interval")
    throw new Error(`--fsync must be "always" or "interval"`);
  const lingerMs = values.linger === undefined ? undefined : Number(values.linger);
  if (lingerMs !== undefined && !(Number.isInteger(lingerMs) && lingerMs >= 0))
    throw new Error(`--linger must be a non-negative integer (milliseconds)`);
  const schemas = values.schemas;
  if (schemas !== "off" && schemas !== "warn" && schemas !== "enforce")
    throw new Error(`--schemas must be "off", "warn" or "enforce"`);
  return {
    runs,
    quick: values.quick,
    scenarios: values.scenario,
    fsync: values.fsync,
    engine: values.engine,
    compare: values.compare.split(",").filter((name) => name.length > 0),
    out: resolve(values.out),
    dataRoot: resolve(values["data-root"]),
    profile: values.profile,
    auth: values.auth,
    schemas,
    tracing: values.tracing,
    payload: values.payload as Payload,
    lingerMs,
    budget: values.budget || values["update-baseline"],
    updateBaseline: values["update-baseline"],
    baseline: resolve(values.baseline),
    help: values.help,
  };
}
