import type { SwitchyardClientError } from "../client/index.js";
import {
  type ErrorCode,
  type FieldError,
  isSwitchyardError,
  SwitchyardError,
} from "../core/errors.js";

/** Exit codes: 1 = the operation failed, 2 = the command line or configuration is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * An expected failure of a command: printed as one line, never with a stack trace. An empty
 * `hint` takes the code's usual one.
 */
export class CliFailure extends SwitchyardError {
  readonly hint: string;
  readonly exitCode: number;
  /** Shown instead of `code` where a system code says more (`EADDRINUSE`, `usage`). */
  readonly shownCode: string;

  constructor(
    code: ErrorCode,
    detail: string,
    hint: string,
    options: { exitCode?: number; shownCode?: string; errors?: readonly FieldError[] } = {},
  ) {
    super(code, detail, options.errors === undefined ? {} : { errors: options.errors });
    this.name = "CliFailure";
    this.hint = hint;
    this.exitCode = options.exitCode ?? EXIT_FAILED;
    this.shownCode = options.shownCode ?? code;
  }
}

/** A bad flag, argument or setting: exit 2. */
export function usage(detail: string, hint: string): CliFailure {
  return new CliFailure("invalid_request", detail, hint, {
    exitCode: EXIT_USAGE,
    shownCode: "usage",
  });
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  unreachable:
    "is the router running? start one with `switchyard dev`, or point --url / SWITCHYARD_URL at it",
  topic_not_found:
    "create it with `switchyard topics create <topic>` (a dev router creates topics on first publish)",
  subscription_not_found:
    "see `switchyard subs list`, or create it with `switchyard subs create <name> --topic <topic>`",
  redrive_not_found: "the redrive job is gone (the router may have restarted); start a new one",
  invalid_name: "topic names use [a-zA-Z0-9._-] (1-200), subscription names [a-zA-Z0-9_-] (1-64)",
  invalid_event: "an event needs a non-empty type and source (--type, --source)",
  reserved_attribute:
    "offset, topic, appendedat, subjectversion and deadletter* are set by the router; remove them from the event",
  invalid_filter: "a filter is one of exact, prefix, suffix, all, any, not (see docs/cli.md)",
  event_too_large:
    "raise the topic's maxEventBytes (`switchyard topics create <topic> --max-event-bytes 4MiB`)",
  body_too_large: "send fewer or smaller events per request",
  batch_too_large: "send fewer events per request",
  topic_in_use:
    "delete the subscriptions that use it first (or pass --force); a subscription's --dead-letter-topic must not name an ordinary topic",
  subscription_topic_changed: "a subscription's topic is fixed: delete it and create it again",
  shutting_down: "the router is stopping; try again once it is back",
  engine_unavailable: "the router cannot reach its store; check the router's log",
  storage_full: "the router's store is full; free disk space (see docs/storage.md) and retry",
  unexpected_response: "is --url pointing at a Switchyard router?",
  schema_not_found:
    "see `switchyard schema list`; register one with `switchyard schema add <type> <file>`",
  invalid_schema:
    "a schema is JSON Schema 2020-12 within the registry's limits; the lines below point at each problem",
  schema_incompatible:
    "the lines below point at each break: fix them, or change the type's mode with `switchyard schema config <type> <mode>`",
};

/** Codes whose pointers are the point: listed under the error line, one per line. */
const LISTS_POINTERS: ReadonlySet<string> = new Set(["invalid_schema", "schema_incompatible"]);

/** `  /pointer: message` lines (`/` for the root). */
export function pointerLines(errors: readonly FieldError[]): string[] {
  return errors.map((e) => `  ${e.pointer || "/"}: ${e.message}`);
}

/** Node's codes for a certificate it could not verify (self-signed, unknown CA, wrong name, expired). */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

export function hintFor(error: SwitchyardError): string {
  if (error instanceof CliFailure && error.hint !== "") return error.hint;
  if (error.code === "unreachable" && UNTRUSTED_CERTIFICATE.test(error.message))
    return "the router's TLS certificate is not trusted here: pass --ca FILE (or SWITCHYARD_CA) with the CA that signed it";
  const hint = HINTS[error.code];
  if (hint) return hint;
  if (error.status >= 500) return "the router failed; check its log";
  return "see `switchyard <command> --help`";
}

/**
 * `error: <what> (<code>) — <what to do>` for expected errors, then, for schema problems,
 * their pointers one per line; `undefined` for bugs.
 */
export function describeFailure(error: unknown): { line: string; exitCode: number } | undefined {
  if (!isSwitchyardError(error)) return undefined;
  const code =
    error instanceof CliFailure
      ? error.shownCode
      : ((error as SwitchyardClientError).problem?.code ?? error.code);
  const exitCode = error instanceof CliFailure ? error.exitCode : EXIT_FAILED;
  const line = `error: ${oneLine(error.message)} (${code}) — ${hintFor(error)}`;
  const details = LISTS_POINTERS.has(code) ? pointerLines(error.errors) : [];
  return { line: [line, ...details].join("\n"), exitCode };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
