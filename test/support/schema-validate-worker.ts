/**
 * Validates data against schemas with the router's validators in a worker thread, so a test
 * can bound the time validation takes: a catastrophic regular expression would block this
 * thread, never the test's, and the test terminates it.
 * `workerData`: `{ cases: [{ schema, data: [...] }] }`; posts the violations per case and datum.
 * Start with `execArgv: ["--import", "./test/support/ts-resolve.ts"]`.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { JsonSchema } from "../../src/broker/schemas/types.ts";
import { SchemaValidators } from "../../src/broker/schemas/validators.ts";

const { cases } = workerData as {
  cases: readonly { schema: JsonSchema; data: readonly unknown[] }[];
};
const validators = new SchemaValidators();
parentPort?.postMessage(
  cases.map(({ schema, data }, i) => {
    const compiled = validators.compile("probe", i, schema);
    return data.map((item) => compiled.validate(item));
  }),
);
