/**
 * A consumer worth testing: every `user.signed-up` event gets a welcome email. The mail
 * service is flaky, so a failed send is retried with the subscription's backoff (1, 2, 4
 * minutes...), and an address that keeps failing ends up in the dead-letter topic after
 * `maxAttempts`, for a person to look at. The handler only throws; the router does the rest.
 */
import type { Admin, Subscriber, SwitchyardClient } from "switchyard/client";

export interface SignedUp {
  readonly userId: string;
  readonly email: string;
}

export interface Mailer {
  send(to: string, subject: string): Promise<void>;
}

export const TOPIC = "signups";
export const SUBSCRIPTION = "welcome-email";
export const DEAD_LETTERS = "signups.welcome-email.dlq";
export const MAX_ATTEMPTS = 4;
export const BACKOFF = { initialMs: 60_000, multiplier: 2, maxMs: 3_600_000 } as const;

/** The topic and the subscription, with its retry policy (idempotent: safe at every start). */
export async function setUpWelcomeEmails(admin: Admin): Promise<void> {
  await admin.topics.put(TOPIC);
  await admin.subscriptions.put(SUBSCRIPTION, {
    topic: TOPIC,
    maxAttempts: MAX_ATTEMPTS,
    backoff: BACKOFF,
    deadLetterTopic: DEAD_LETTERS,
  });
}

/** Sends one welcome email per signup; a send that throws is nacked and retried later. */
export function startWelcomeEmails(client: SwitchyardClient, mailer: Mailer): Subscriber {
  return client.subscribe<SignedUp>(
    SUBSCRIPTION,
    async (delivery) => {
      await mailer.send(delivery.event.data.email, "Welcome aboard");
    },
    { onHandlerError: () => {} }, // a failed send is expected here: the router retries it
  );
}
