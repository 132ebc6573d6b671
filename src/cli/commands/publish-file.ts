import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { EventInput, SwitchyardClient } from "../../client/index.js";
import { isSwitchyardError } from "../../core/errors.js";
import { CliFailure, hintFor, usage } from "../fail.js";
import { formatCount, formatDuration, ProgressLine, progressBar } from "../output.js";

/** Most publishes awaiting an answer at once: bounds memory on huge files. */
const WINDOW = 5_000;

interface Tally {
  lines: number;
  sent: number;
  stored: number;
  duplicates: number;
  failed: number;
  firstError: unknown;
}

/**
 * Publishes every line of a JSON Lines file, batched by the SDK, with a progress bar on a
 * terminal. Stops at the first line that is not a JSON object (after what was sent is answered).
 */
export async function publishFile(
  client: SwitchyardClient,
  topic: string,
  path: string,
  defaults: Partial<EventInput>,
  json: boolean,
): Promise<void> {
  const size = fileSize(path);
  const input = createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const tally: Tally = {
    lines: 0,
    sent: 0,
    stored: 0,
    duplicates: 0,
    failed: 0,
    firstError: undefined,
  };
  const pending = new Set<Promise<void>>();
  const progress = new ProgressLine(process.stderr);
  const started = Date.now();
  let badLine: CliFailure | undefined;
  for await (const text of lines) {
    tally.lines++;
    if (text.trim() === "") continue;
    const event = parseLine(text, tally.lines, path);
    if (event instanceof CliFailure) {
      badLine = event;
      break;
    }
    track(pending, send(client, topic, { ...defaults, ...event } as EventInput, tally));
    if (pending.size >= WINDOW) await Promise.race(pending);
    const rate = tally.stored / Math.max(0.001, (Date.now() - started) / 1000);
    progress.update(
      `${progressBar(input.bytesRead / Math.max(1, size))} ${formatCount(tally.sent)} events  ${formatCount(Math.round(rate))}/s`,
    );
  }
  lines.close();
  await Promise.all(pending);
  report(tally, topic, Date.now() - started, json, progress);
  if (badLine) throw badLine;
  if (tally.failed > 0) throw summarise(tally);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    throw usage(
      `--file cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`,
      "check the path",
    );
  }
}

function parseLine(text: string, line: number, path: string): Record<string, unknown> | CliFailure {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  return new CliFailure(
    "invalid_json",
    `line ${line} of ${path} is not a JSON object`,
    "each line must be one JSON event",
  );
}

function send(
  client: SwitchyardClient,
  topic: string,
  event: EventInput,
  tally: Tally,
): Promise<void> {
  tally.sent++;
  return client.publish(topic, event).then(
    (result) => {
      if (result.duplicate) tally.duplicates++;
      else tally.stored++;
    },
    (error: unknown) => {
      tally.failed++;
      tally.firstError ??= error;
    },
  );
}

function track(pending: Set<Promise<void>>, promise: Promise<void>): void {
  pending.add(promise);
  void promise.finally(() => pending.delete(promise));
}

function report(
  tally: Tally,
  topic: string,
  elapsedMs: number,
  json: boolean,
  progress: ProgressLine,
): void {
  progress.clear();
  const { firstError: _, ...counts } = tally;
  const answered = tally.stored + tally.duplicates;
  const failed = tally.failed ? `, ${formatCount(tally.failed)} failed` : "";
  const line = json
    ? JSON.stringify({ topic, ...counts, elapsedMs })
    : `published ${formatCount(answered)} events to ${topic} (${formatCount(tally.stored)} new, ${formatCount(tally.duplicates)} duplicates${failed}) in ${formatDuration(elapsedMs)}`;
  process.stdout.write(`${line}\n`);
}

function summarise(tally: Tally): CliFailure {
  const first = tally.firstError;
  if (first instanceof CliFailure) return first;
  const code = first instanceof Error && "code" in first ? String(first.code) : "internal";
  const message = first instanceof Error ? first.message : String(first);
  return new CliFailure(
    "invalid_request",
    `${formatCount(tally.failed)} of ${formatCount(tally.sent)} events failed; the first: ${message}`,
    isSwitchyardError(first) ? hintFor(first) : "see the router's log",
    { shownCode: code },
  );
}
