/**
 * The welcome-email consumer against a real router, with time in the test's hands: four
 * attempts with 1, 2 and 4 minutes of backoff between them, then the dead letter, in well
 * under a second of real time.
 */

import { createTestRouter, type TestRouter } from "switchyard/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BACKOFF,
  DEAD_LETTERS,
  MAX_ATTEMPTS,
  type Mailer,
  SUBSCRIPTION,
  setUpWelcomeEmails,
  startWelcomeEmails,
  TOPIC,
} from "./welcome-email.ts";

const signup = { type: "user.signed-up", data: { userId: "u-1", email: "ada@example.com" } };

/** A mailer that fails its first `failures` sends, counting every try. */
function flakyMailer(failures: number): Mailer & { tries: number; sent: string[] } {
  const mailer = {
    tries: 0,
    sent: [] as string[],
    async send(to: string) {
      mailer.tries++;
      if (mailer.tries <= failures) throw new Error("mail service unavailable");
      mailer.sent.push(to);
    },
  };
  return mailer;
}

/** The longest backoff before attempt `attempt` (full jitter picks up to this). */
const backoffBefore = (attempt: number): number =>
  Math.min(BACKOFF.maxMs, BACKOFF.initialMs * BACKOFF.multiplier ** (attempt - 2));

describe("welcome emails", () => {
  let router: TestRouter;

  beforeEach(async () => {
    router = await createTestRouter();
    await setUpWelcomeEmails(router.client.admin);
  });

  afterEach(() => router.close());

  it("retries a failed send with backoff, then dead-letters the signup after maxAttempts", async () => {
    const mailer = flakyMailer(Number.POSITIVE_INFINITY);
    await startWelcomeEmails(router.client, mailer).ready;
    await router.client.publish(TOPIC, signup);
    await router.waitFor(() => mailer.tries === 1);
    // Jump each backoff at its longest; a jump may cover more than one retry (time is time).
    while (mailer.tries < MAX_ATTEMPTS) {
      const tries = mailer.tries;
      await router.settled(SUBSCRIPTION); // the nack is in: its backoff counts from now
      await router.advance(backoffBefore(tries + 1));
      await router.waitFor(() => mailer.tries > tries);
    }
    const [dead] = await router.waitFor(async () => {
      const events = await router.published(DEAD_LETTERS);
      return events.length > 0 && events;
    });
    expect(dead).toMatchObject({
      data: signup.data,
      deadletterreason: "max attempts exceeded",
      deadletterattempts: MAX_ATTEMPTS,
      deadlettersubscription: SUBSCRIPTION,
    });
    expect(mailer.tries).toBe(MAX_ATTEMPTS);
  });

  it("sends on the retry after a passing failure, and dead-letters nothing", async () => {
    const mailer = flakyMailer(1);
    await startWelcomeEmails(router.client, mailer).ready;
    await router.client.publish(TOPIC, signup);
    await router.waitFor(() => mailer.tries === 1);
    await router.settled(SUBSCRIPTION);
    await router.advance(backoffBefore(2));
    await router.waitFor(() => mailer.sent.length === 1);
    await router.settled(SUBSCRIPTION);
    expect(mailer.sent).toEqual(["ada@example.com"]);
    expect(await router.published(DEAD_LETTERS)).toEqual([]);
    // Nothing is left to retry, however long the router runs.
    await router.advance(24 * 3_600_000);
    expect(mailer.tries).toBe(2);
  });
});
