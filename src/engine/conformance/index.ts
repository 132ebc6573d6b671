/**
 * The engine conformance suite: the executable form of the contract in `engine.ts`. Every
 * engine runs all of it from one runner file; capabilities switch assertions, nothing is
 * skipped. Tests use short real leases and bounded polling, never a fake clock.
 */
import { afterAll, describe } from "vitest";
import { appendTests } from "./append.js";
import { attemptTests } from "./attempts.js";
import { batchTests } from "./batch.js";
import { catalogTests } from "./catalog.js";
import { deadLetterTests } from "./dead-letter.js";
import { dedupeTests } from "./dedupe.js";
import { flowTests } from "./flows.js";
import type { EngineHarness } from "./harness.js";
import { leaseTests } from "./lease.js";
import { lifecycleTests } from "./lifecycle.js";
import { orderingTests } from "./ordering.js";
import { readTests } from "./read.js";
import { releaseTests } from "./release.js";
import { restartTests } from "./restart.js";
import { retentionTests } from "./retention.js";
import { scheduledTests } from "./scheduled.js";
import { seekTests } from "./seek.js";
import { settleTests } from "./settle.js";
import { statsTests } from "./stats.js";
import { subjectTests } from "./subjects.js";
import { subscriptionTests } from "./subscriptions.js";
import { tailTests } from "./tail.js";
import { topicTests } from "./topics.js";

export type { EngineHarness } from "./harness.js";

/** Registers the whole suite as describe() blocks titled with the harness's name. */
export function engineConformance(harness: EngineHarness): void {
  describe(`engine conformance: ${harness.name}`, () => {
    afterAll(async () => {
      await harness.cleanup?.();
    });
    lifecycleTests(harness);
    topicTests(harness);
    subscriptionTests(harness);
    appendTests(harness);
    batchTests(harness);
    dedupeTests(harness);
    readTests(harness);
    tailTests(harness);
    leaseTests(harness);
    settleTests(harness);
    releaseTests(harness);
    deadLetterTests(harness);
    orderingTests(harness);
    seekTests(harness);
    retentionTests(harness);
    statsTests(harness);
    attemptTests(harness);
    restartTests(harness);
    catalogTests(harness);
    flowTests(harness);
    subjectTests(harness);
    scheduledTests(harness);
  });
}
