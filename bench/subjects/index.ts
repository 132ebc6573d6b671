/** Which systems a bench invocation measures: Switchyard, plus any `--compare` brokers. */

import { natsSubject } from "./nats.ts";
import { rabbitmqSubject } from "./rabbitmq.ts";
import { redisSubject } from "./redis.ts";
import type { BenchSubject, SubjectOptions } from "./subject.ts";
import { switchyardSubject } from "./switchyard.ts";

/**
 * Other systems, measured by the same scenarios through the `BenchSubject` seam. To add a
 * broker, implement `BenchSubject` in `bench/subjects/<name>.ts` and register it here.
 */
const BROKERS: Readonly<Record<string, (options: SubjectOptions) => BenchSubject>> = {
  nats: natsSubject, // raw JetStream: PubAcks read on an inbox of our own, R1 file stream
  rabbitmq: () => rabbitmqSubject("classic"), // the machine's broker, a vhost of its own
  "rabbitmq-quorum": () => rabbitmqSubject("quorum"),
  // --fsync always → appendfsync always, interval → everysec
  redis: (options) => redisSubject(options.fsync === "always" ? "always" : "everysec", options),
};

export function createSubjects(
  compare: readonly string[],
  options: SubjectOptions,
): BenchSubject[] {
  const others = compare.map((name) => {
    const factory = BROKERS[name];
    if (!factory)
      throw new Error(
        `unknown --compare system "${name}"; known: ${Object.keys(BROKERS).join(", ")}`,
      );
    return factory(options);
  });
  return [switchyardSubject(options), ...others];
}
