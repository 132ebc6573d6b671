/**
 * Validation with a deadline, in a worker thread (schema-validate-worker.ts): a validator that
 * backtracks or compares every pair would block that thread, never the test's, and the test
 * fails on the deadline instead of hanging.
 */
import { Worker } from "node:worker_threads";
import type { DataViolation, JsonSchema } from "../../src/broker/schemas/types.js";

export interface BoundedCase {
  readonly schema: JsonSchema;
  readonly data: readonly unknown[];
}
export type Verdicts = readonly (readonly (readonly DataViolation[])[])[];

/** Validates in a worker thread with a deadline: a backtracking engine would blow it. */
export function validateBounded(
  cases: readonly BoundedCase[],
  deadlineMs: number,
): Promise<Verdicts> {
  const worker = new Worker(new URL("./schema-validate-worker.ts", import.meta.url), {
    workerData: { cases },
    execArgv: ["--import", "./test/support/ts-resolve.ts"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`validation took longer than ${deadlineMs} ms`));
    }, deadlineMs);
    worker.once("message", (verdicts: Verdicts) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(verdicts);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
