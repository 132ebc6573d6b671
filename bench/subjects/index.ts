/** Which systems a bench invocation measures: Switchyard, plus any `--compare` brokers. */
import type { BenchSubject, SubjectOptions } from "./subject.ts";
import { switchyardSubject } from "./switchyard.ts";

/**
 * Other brokers, measured by the same scenarios through the `BenchSubject` seam. Each runs
 * against a broker already listening locally; none is wired up yet. To add one, implement
 * `BenchSubject` in `bench/subjects/<name>.ts` and register its factory here.
 */
const BROKERS: Readonly<Record<string, ((options: SubjectOptions) => BenchSubject) | undefined>> = {
  nats: undefined, // JetStream: acks read on an inbox of our own, R1 file stream
  rabbitmq: undefined, // quorum queue, publisher confirms
  redis: undefined, // Redis Streams: XADD / XREADGROUP + XACK
};

export function createSubjects(
  compare: readonly string[],
  options: SubjectOptions,
): BenchSubject[] {
  const others = compare.map((name) => {
    if (!(name in BROKERS))
      throw new Error(
        `unknown --compare system "${name}"; known: ${Object.keys(BROKERS).join(", ")}`,
      );
    const factory = BROKERS[name];
    if (!factory)
      throw new Error(`--compare ${name} is not implemented yet (bench/subjects/index.ts)`);
    return factory(options);
  });
  return [switchyardSubject(options), ...others];
}
