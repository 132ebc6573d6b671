/** Which systems a bench invocation measures: Switchyard, plus any `--compare` brokers. */

import { natsSubject } from "./nats.ts";
import type { BenchSubject, SubjectOptions } from "./subject.ts";
import { switchyardSubject } from "./switchyard.ts";

/**
 * Other systems, measured by the same scenarios through the `BenchSubject` seam. To add a
 * broker, implement `BenchSubject` in `bench/subjects/<name>.ts` and register it here.
 */
const BROKERS: Readonly<Record<string, (options: SubjectOptions) => BenchSubject>> = {
  nats: natsSubject, // raw JetStream: PubAcks read on an inbox of our own, R1 file stream
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
