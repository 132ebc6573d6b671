/**
 * The soak test's operator: reads the push subscription's dead-letter topic, "fixes" the
 * endpoint for every event found there, and redrives the subscription's dead letters
 * (`POST /v1/subscriptions/{name}/redrive`). A round whose calls go unanswered (the router
 * was killed) is counted and simply tried again next round: redrive moves each dead-lettering
 * at most once, so repeating a redrive is harmless.
 */
import { call } from "../crash/http.js";
import type { PushEndpoint } from "./push-endpoint.js";

export interface RedriverStats {
  rounds: number;
  /** Rounds cut short because the router did not answer. */
  lostRounds: number;
  /** Redrive jobs started (202). */
  jobs: number;
  /** Dead letters those jobs matched. */
  matched: number;
  /** Entries read from the dead-letter topic (an event dead-lettered twice counts twice). */
  deadLetterings: number;
}

interface Page {
  readonly events: readonly { readonly id: string }[];
  readonly next: number;
}

export class Redriver {
  /** Every event id found in the dead-letter topic. */
  readonly deadLettered = new Set<string>();
  readonly stats: RedriverStats = {
    rounds: 0,
    lostRounds: 0,
    jobs: 0,
    matched: 0,
    deadLetterings: 0,
  };
  readonly #url: string;
  readonly #subscription: string;
  readonly #deadLetterTopic: string;
  readonly #endpoint: PushEndpoint;
  #from = 1;

  constructor(url: string, subscription: string, deadLetterTopic: string, endpoint: PushEndpoint) {
    this.#url = url;
    this.#subscription = subscription;
    this.#deadLetterTopic = deadLetterTopic;
    this.#endpoint = endpoint;
  }

  /** One round: read new dead letters, fix them, redrive. */
  async round(): Promise<void> {
    this.stats.rounds++;
    if (!(await this.#readDeadLetters())) {
      this.stats.lostRounds++;
      return;
    }
    const outcome = await call(
      `${this.#url}/v1/subscriptions/${this.#subscription}/redrive`,
      "POST",
      "application/json",
      { actor: "soak-test" },
    );
    if (outcome.kind === "lost") {
      this.stats.lostRounds++;
      return;
    }
    if (outcome.status !== 202)
      throw new Error(`redrive answered ${outcome.status}: ${JSON.stringify(outcome.body)}`);
    this.stats.jobs++;
    this.stats.matched += (outcome.body as { matched: number }).matched;
  }

  /** How many dead letters a redrive would move now (a dry run); undefined if unanswered. */
  async waiting(): Promise<number | undefined> {
    const outcome = await call(
      `${this.#url}/v1/subscriptions/${this.#subscription}/redrive`,
      "POST",
      "application/json",
      { dryRun: true },
    );
    if (outcome.kind === "lost") return undefined;
    if (outcome.status !== 200)
      throw new Error(
        `redrive dry run answered ${outcome.status}: ${JSON.stringify(outcome.body)}`,
      );
    return (outcome.body as { matched: number }).matched;
  }

  /** Reads the dead-letter topic from where the last round stopped; false if unanswered. */
  async #readDeadLetters(): Promise<boolean> {
    for (;;) {
      const outcome = await call(
        `${this.#url}/v1/topics/${encodeURIComponent(this.#deadLetterTopic)}/events?from=${this.#from}&limit=1000`,
        "GET",
        "application/json",
      );
      if (outcome.kind === "lost") return false;
      if (outcome.status === 404) return true; // nothing dead-lettered yet: the topic comes with the first
      if (outcome.status !== 200)
        throw new Error(
          `dead-letter read answered ${outcome.status}: ${JSON.stringify(outcome.body)}`,
        );
      const page = outcome.body as Page;
      if (page.events.length === 0) return true;
      for (const { id } of page.events) {
        this.deadLettered.add(id);
        this.#endpoint.fix(id);
        this.stats.deadLetterings++;
      }
      this.#from = page.next;
    }
  }
}
