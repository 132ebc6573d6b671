/**
 * The router's one pino logger, shared by Fastify (request lines carry `reqId`) and the
 * broker (push deliveries, dead letters, redrive jobs), so every line is one JSON stream on
 * stdout. Credentials are redacted should a request object ever reach a line.
 */
import { pino } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "silent";

export type RouterLogger = pino.Logger;

export function createRouterLogger(level: LogLevel = "info"): RouterLogger {
  return pino({
    level,
    redact: {
      paths: ["req.headers.authorization", "req.headers.cookie", "req.headers['x-api-key']"],
      censor: "[redacted]",
    },
  });
}
