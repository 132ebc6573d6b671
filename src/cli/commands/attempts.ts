import type { Command } from "commander";
import type { PushAttempt } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, withClient } from "../connect.js";
import { formatCount, formatDuration, formatTime, renderTable } from "../output.js";
import { parseInteger } from "../parse.js";

interface AttemptsFlags extends ConnectionFlags {
  readonly event?: string;
  readonly limit: string;
  readonly json?: boolean;
}

const RESPONSE_CHARS = 60;

/** `switchyard attempts <subscription>`: the push attempt log, newest first. */
export function registerAttempts(program: Command): void {
  addConnectionOptions(
    program
      .command("attempts <subscription>")
      .description("show a push subscription's delivery attempts, newest first")
      .option("--event <id>", "only the attempts of this event id")
      .option("--limit <n>", "at most this many (at most 1000)", "20")
      .option("--json", "print JSON lines"),
  ).action(async (name: string, flags: AttemptsFlags) => {
    const limit = parseInteger(flags.limit, "--limit", 1, 1_000);
    const attempts = await withClient(flags, (c) =>
      c.admin.subscriptions.attempts(name, {
        limit,
        ...(flags.event === undefined ? {} : { eventId: flags.event }),
      }),
    );
    process.stdout.write(renderAttempts(name, attempts, flags.json === true));
  });
}

export function renderAttempts(
  name: string,
  attempts: readonly PushAttempt[],
  json: boolean,
): string {
  if (json) return attempts.map((a) => `${JSON.stringify(a)}\n`).join("");
  if (attempts.length === 0) return `no push attempts recorded for ${name}\n`;
  const table = renderTable(attempts, [
    { header: "AT", value: (a) => formatTime(a.at) },
    { header: "EVENT", value: (a) => a.eventId },
    { header: "OFFSET", value: (a) => formatCount(a.offset), align: "right" },
    { header: "ATTEMPT", value: (a) => String(a.attempt), align: "right" },
    {
      header: "STATUS",
      value: (a) => (a.status === null ? "-" : String(a.status)),
      align: "right",
    },
    { header: "LATENCY", value: (a) => formatDuration(a.latencyMs), align: "right" },
    { header: "ERROR / RESPONSE", value: (a) => detail(a) },
  ]);
  return `${table}\n`;
}

function detail(attempt: PushAttempt): string {
  const text = attempt.error ?? attempt.response ?? "";
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > RESPONSE_CHARS ? `${line.slice(0, RESPONSE_CHARS - 1)}…` : line || "-";
}
