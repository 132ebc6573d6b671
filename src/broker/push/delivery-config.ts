import type { PushBatchConfig, PushConfig } from "../../core/config.js";
import {
  type FieldErrors,
  type JsonObject,
  readInt,
  readNumber,
  readObject,
  rejectUnknown,
} from "../fields.js";

/**
 * The delivery-tuning part of a subscription's `push` block: batching, rate limit, maximum
 * age and the client-error policy. `paused` is state, not config: PUT never sets it (it is
 * accepted and ignored so a config read back can be PUT again), and an update keeps it.
 */

export const PUSH_DELIVERY_FIELDS = [
  "batch",
  "ratePerSecond",
  "maxAgeMs",
  "onClientError",
  "paused",
] as const;

export const BATCH_DEFAULTS: PushBatchConfig = { maxEvents: 100, maxBytes: 1_048_576, lingerMs: 0 };

const BATCH_FIELDS = new Set(["maxEvents", "maxBytes", "lingerMs"]);
const BOUNDS = {
  maxEvents: { min: 1, max: 10_000 },
  maxBytes: { min: 1_024, max: 16 * 1_048_576 },
  lingerMs: { min: 0, max: 60_000 },
  ratePerSecond: { min: 0.001, max: 1_000_000 },
  maxAgeMs: { min: 1_000, max: 90 * 86_400_000 },
} as const;

type DeliveryFields = Pick<
  PushConfig,
  "batch" | "ratePerSecond" | "maxAgeMs" | "onClientError" | "paused"
>;

function parseBatch(input: JsonObject, at: string, errors: FieldErrors): PushBatchConfig | null {
  const batch = readObject(input, "batch", at, errors);
  if (batch === undefined) return null;
  const here = `${at}/batch`;
  rejectUnknown(batch, BATCH_FIELDS, here, errors);
  return {
    maxEvents:
      readInt(batch, "maxEvents", here, BOUNDS.maxEvents, errors) ?? BATCH_DEFAULTS.maxEvents,
    maxBytes: readInt(batch, "maxBytes", here, BOUNDS.maxBytes, errors) ?? BATCH_DEFAULTS.maxBytes,
    lingerMs: readInt(batch, "lingerMs", here, BOUNDS.lingerMs, errors) ?? BATCH_DEFAULTS.lingerMs,
  };
}

function parseClientErrorPolicy(
  input: JsonObject,
  at: string,
  errors: FieldErrors,
): "retry" | "dead-letter" {
  const value = input.onClientError ?? "retry";
  if (value === "retry" || value === "dead-letter") return value;
  errors.add(`${at}/onClientError`, 'must be "retry" or "dead-letter"');
  return "retry";
}

export function parsePushDelivery(
  input: JsonObject,
  at: string,
  previous: PushConfig | null,
  errors: FieldErrors,
): DeliveryFields {
  return {
    batch: parseBatch(input, at, errors),
    ratePerSecond: readNumber(input, "ratePerSecond", at, BOUNDS.ratePerSecond, errors) ?? null,
    maxAgeMs: readInt(input, "maxAgeMs", at, BOUNDS.maxAgeMs, errors) ?? null,
    onClientError: parseClientErrorPolicy(input, at, errors),
    paused: previous?.paused ?? null,
  };
}
