/**
 * The broker's log port: the few pino methods it calls, so the broker names no logging
 * library. Delivery lines carry `subscription`, `eventId` and `correlationId` (and the
 * server adds `reqId` for work a request started), never a secret or a header value.
 */
export type LogLevelName = "debug" | "info" | "warn" | "error";

export interface LogFields {
  readonly [field: string]: string | number | boolean | null | undefined;
}

export interface Log {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** Lets a caller skip building fields (parsing an event) for a line nobody will see. */
  isLevelEnabled(level: LogLevelName): boolean;
}

const ignore = (): void => undefined;

export const silentLog: Log = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  isLevelEnabled: () => false,
};

/** The ids a delivery line names, read from the stored event only when the line is logged. */
export function eventIds(body: string): { eventId: string; correlationId: string | undefined } {
  try {
    const event = JSON.parse(body) as { id?: unknown; correlationid?: unknown };
    return {
      eventId: String(event.id),
      correlationId: typeof event.correlationid === "string" ? event.correlationid : undefined,
    };
  } catch {
    return { eventId: "", correlationId: undefined };
  }
}

const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** Whether a logger set to `current` (a pino level name, or `silent`) writes `wanted` lines. */
export function levelEnabled(current: string, wanted: LogLevelName): boolean {
  return (LEVELS[current] ?? Number.POSITIVE_INFINITY) <= (LEVELS[wanted] ?? 0);
}
