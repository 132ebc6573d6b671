import type { Command } from "commander";
import type { Topic, TopicSettings } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { mapLimit } from "../map-limit.js";
import { formatBytes, formatCount, formatDuration, renderPairs, renderTable } from "../output.js";
import { parseBytes, parseDuration, parseInteger } from "../parse.js";

interface UrlFlags extends ConnectionFlags {
  readonly json?: boolean;
}

interface CreateFlags extends UrlFlags {
  readonly retentionAge?: string;
  readonly retentionBytes?: string;
  readonly retentionEvents?: string;
  readonly dedupeWindow?: string;
  readonly maxEventBytes?: string;
}

export function registerTopics(program: Command): void {
  const topics = program.command("topics").description("list, inspect, create and delete topics");
  addConnectionOptions(
    topics
      .command("list", { isDefault: true })
      .description("list topics with their size")
      .option("--json", "print JSON"),
  ).action(async (flags: UrlFlags) => listTopics(flags));
  addConnectionOptions(
    topics
      .command("get <topic>")
      .description("show a topic's settings and stats")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: UrlFlags) => {
    const topic = await withClient(flags, (c) => c.admin.topics.get(name));
    process.stdout.write(
      flags.json ? `${JSON.stringify(topic, null, 2)}\n` : `${describeTopic(topic)}\n`,
    );
  });
  addConnectionOptions(
    topics
      .command("create <topic>")
      .description("create a topic, or update its settings")
      .option("--retention-age <duration>", "drop events older than this, e.g. 7d")
      .option("--retention-bytes <size>", "keep at most this many bytes, e.g. 10GiB")
      .option("--retention-events <n>", "keep at most this many events")
      .option(
        "--dedupe-window <duration>",
        "drop repeats of source+id within this window (default 5m)",
      )
      .option("--max-event-bytes <size>", "largest event accepted (default 1MiB)")
      .option("--json", "print JSON"),
  ).action(async (name: string, flags: CreateFlags) => {
    const result = await withClient(flags, (c) => c.admin.topics.put(name, topicSettings(flags)));
    if (flags.json) process.stdout.write(`${JSON.stringify(result.topic)}\n`);
    else process.stdout.write(`${result.created ? "created" : "updated"} topic ${name}\n`);
  });
  addConnectionOptions(
    topics
      .command("delete <topic>")
      .description("delete a topic and its events")
      .option("--force", "also delete the subscriptions that read it"),
  ).action(async (name: string, flags: UrlFlags & { force?: boolean }) => {
    await withClient(flags, (c) => c.admin.topics.delete(name, { force: flags.force === true }));
    process.stdout.write(`deleted topic ${name}\n`);
  });
}

function topicSettings(flags: CreateFlags): TopicSettings {
  const retention = {
    ...(flags.retentionAge
      ? { maxAgeMs: parseDuration(flags.retentionAge, "--retention-age") }
      : {}),
    ...(flags.retentionBytes
      ? { maxBytes: parseBytes(flags.retentionBytes, "--retention-bytes") }
      : {}),
    ...(flags.retentionEvents
      ? { maxEvents: parseInteger(flags.retentionEvents, "--retention-events", 1) }
      : {}),
  };
  return {
    ...(Object.keys(retention).length > 0 ? { retention } : {}),
    ...(flags.dedupeWindow
      ? { dedupeWindowMs: parseDuration(flags.dedupeWindow, "--dedupe-window") }
      : {}),
    ...(flags.maxEventBytes
      ? { maxEventBytes: parseBytes(flags.maxEventBytes, "--max-event-bytes") }
      : {}),
  };
}

async function listTopics(flags: UrlFlags): Promise<void> {
  const topics = await withClient(flags, async (client) => {
    const listed = await client.admin.topics.list();
    // The list may omit stats; fetch each topic for them (a handful of requests at once).
    return mapLimit(listed, 8, (t) =>
      t.stats ? Promise.resolve(t) : client.admin.topics.get(t.name),
    );
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(topics, null, 2)}\n`);
    return;
  }
  if (topics.length === 0) {
    process.stdout.write("no topics yet (create one with `switchyard topics create <name>`)\n");
    return;
  }
  const table = renderTable(topics, [
    { header: "TOPIC", value: (t) => t.name },
    { header: "EVENTS", value: (t) => formatCount(t.stats?.events ?? 0), align: "right" },
    { header: "SIZE", value: (t) => formatBytes(t.stats?.bytes ?? 0), align: "right" },
    { header: "OFFSETS", value: (t) => offsets(t) },
    { header: "RETENTION", value: (t) => retentionText(t) },
  ]);
  process.stdout.write(`${table}\n`);
}

function offsets(topic: Topic): string {
  const stats = topic.stats;
  if (!stats || stats.lastOffset === 0) return "-";
  if (stats.events === 0) return `(empty) next ${stats.lastOffset + 1}`;
  return `${stats.firstOffset}..${stats.lastOffset}`;
}

function retentionText(topic: Topic): string {
  const r = topic.retention ?? {};
  const parts = [
    r.maxAgeMs === undefined ? "" : formatDuration(r.maxAgeMs),
    r.maxBytes === undefined ? "" : formatBytes(r.maxBytes),
    r.maxEvents === undefined ? "" : `${formatCount(r.maxEvents)} events`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(", ") : "forever";
}

function describeTopic(topic: Topic): string {
  const stats = topic.stats;
  return renderPairs([
    ["topic", topic.name],
    ["events", formatCount(stats?.events ?? 0)],
    ["size", formatBytes(stats?.bytes ?? 0)],
    ["offsets", offsets(topic)],
    ["retention", retentionText(topic)],
    ["dedupe window", formatDuration(topic.dedupeWindowMs)],
    ["max event size", formatBytes(topic.maxEventBytes)],
    ...(topic.owner === "router"
      ? [["owner", "the router (only it appends here; redrive moves dead letters)"] as const]
      : []),
  ]);
}
