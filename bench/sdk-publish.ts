/**
 * The SDK's side of batched publishing: runs the `publish-batched` loop (one `publish` per
 * 256-byte event, 5,000 unanswered) against a router child process and prints, per event,
 * the bench process's own CPU (the SDK plus this loop) beside the router's. Run it under
 * `node --cpu-prof` to profile the SDK.
 *
 *   node bench/sdk-publish.ts [--events N] [--fsync always|interval]
 */
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { measurePublish } from "./scenarios/publish.ts";
import { switchyardSubject } from "./subjects/switchyard.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "300000" },
    fsync: { type: "string", default: "always" },
  },
});
const events = Number(values.events);
const fsync = values.fsync === "interval" ? "interval" : "always";
const subject = switchyardSubject({
  fsync,
  engine: "sqlite",
  dataRoot: tmpdir(),
  profileDir: undefined,
});
const session = await subject.open();
try {
  const topic = `sdk-publish-${process.pid}`;
  await session.createTopic(topic);
  const { value, details } = await measurePublish(session, topic, events, 20_000);
  const seconds = Number(details.seconds);
  const benchUs =
    ((Number(details.benchCpuPercent) / 100) * seconds * 1e6) / Number(details.events);
  console.log(
    `fsync ${fsync}: ${Math.round(value)} events/s, SDK+loop ${benchUs.toFixed(2)} µs/event, ` +
      `router ${Number(details.systemCpuUsPerEvent).toFixed(2)} µs/event, ` +
      `router starved ${Number(details.systemStarvedPercent).toFixed(0)}%`,
  );
} finally {
  await session.close();
}
