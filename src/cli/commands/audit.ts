import type { Command } from "commander";
import type { StoredEvent } from "../../client/index.js";
import { addConnectionOptions, type ConnectionFlags, connect } from "../connect.js";
import { jsonEvent } from "../event-format.js";
import { type TailFlags, tailTopic } from "./tail.js";

const AUDIT_TOPIC = "switchyard.audit";

interface AuditTailFlags extends ConnectionFlags {
  readonly from: string;
  readonly follow: boolean;
  readonly json?: boolean;
  readonly pollMs: string;
}

/** Who made the action: the key's name, `-` without auth (or for a refused credential). */
function actorName(event: StoredEvent): string {
  const data = event.data as { actor?: { name?: unknown } | null } | undefined;
  const name = data?.actor?.name;
  return typeof name === "string" ? name : "-";
}

/** One line per audit event: time, type, actor name, subject. */
export function auditLine(event: StoredEvent): string {
  return `${event.time ?? event.appendedat}  ${event.type}  ${actorName(event)}  ${event.subject ?? "-"}\n`;
}

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("the audit trail (switchyard.audit)");
  const command = audit
    .command("tail")
    .description("print the audit trail, one line per event: time, type, actor, subject")
    .option("--from <offset>", "start at this offset", "1")
    .option("--follow", "wait for new events at the end instead of exiting", false)
    .option("--json", "print the events as JSON lines")
    .option("--poll-ms <ms>", "how often to look for new events when following", "250");
  addConnectionOptions(command).action(async (flags: AuditTailFlags) => {
    const client = connect(flags);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const tailFlags: TailFlags = { ...flags, concurrency: "1" };
    try {
      await tailTopic(
        client,
        AUDIT_TOPIC,
        tailFlags,
        Number.POSITIVE_INFINITY,
        (event) => process.stdout.write(flags.json ? jsonEvent(event) : auditLine(event)),
        stop.signal,
      );
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await client.close();
    }
  });
}
