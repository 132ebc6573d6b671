/** Parsers for command-line values; each throws a one-line usage failure naming the flag. */
import { readFileSync } from "node:fs";
import type { StartPosition } from "../core/positions.js";
import { usage } from "./fail.js";

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "500ms", "30s", "5m", "2h", "7d", or a bare number of milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match)
    throw usage(
      `${flag} ${JSON.stringify(value)} is not a duration`,
      "write e.g. 500ms, 30s, 5m, 2h or 7d",
    );
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? "ms"] ?? 1));
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "1048576", "512KiB", "16MiB", "10GB". */
export function parseBytes(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const unit = BYTE_UNITS[(match?.[2] || "b").toLowerCase()];
  if (!match || unit === undefined)
    throw usage(
      `${flag} ${JSON.stringify(value)} is not a size`,
      "write e.g. 1048576, 512KiB, 16MiB or 10GB",
    );
  return Math.round(Number(match[1]) * unit);
}

/** A whole number within [min, max]. */
export function parseInteger(
  value: string,
  flag: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw usage(
      `${flag} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`,
      `pass e.g. ${flag} ${min === 0 ? 10 : min}`,
    );
  return n;
}

/** A positive number, fractions allowed (a rate per second). */
export function parseRate(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n <= 0)
    throw usage(
      `${flag} ${JSON.stringify(value)} is not a positive number`,
      `pass e.g. ${flag} 100 or ${flag} 0.5`,
    );
  return n;
}

/** `earliest`, `latest`, an offset, or a time (RFC 3339, or anything Date.parse reads). */
export function parsePosition(value: string, what: string): StartPosition {
  if (value === "earliest" || value === "latest") return value;
  if (/^\d+$/.test(value)) return { offset: parseInteger(value, what, 1) };
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw usage(
      `${what} ${JSON.stringify(value)} is not earliest, latest, an offset or a time`,
      "write e.g. earliest, 42 or 2026-11-23T10:00:00Z",
    );
  return { time: new Date(at).toISOString() };
}

/** An RFC 3339-ish time for `--since`. */
export function parseTime(value: string, flag: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw usage(
      `${flag} ${JSON.stringify(value)} is not a time`,
      "write e.g. 2026-11-23T10:00:00Z",
    );
  return new Date(at).toISOString();
}

/** Inline JSON, `@path` for a file, or `@-` for standard input. */
export function readJsonArgument(value: string, flag: string): unknown {
  const text = value.startsWith("@") ? readSource(value.slice(1), flag) : value;
  try {
    return JSON.parse(text);
  } catch {
    throw usage(
      `${flag} is not valid JSON${value.startsWith("@") ? ` (in ${value.slice(1)})` : ""}`,
      `quote it for the shell, e.g. ${flag} '{"id":1}', or pass ${flag} @file.json`,
    );
  }
}

function readSource(path: string, flag: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw usage(`${flag} cannot read ${path}: ${why}`, "check the path");
  }
}

/** `name=value` pairs (repeatable flags) into a record. */
export function parsePairs(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values) {
    const at = pair.indexOf("=");
    if (at <= 0)
      throw usage(
        `${flag} ${JSON.stringify(pair)} is not name=value`,
        `write e.g. ${flag} region=eu`,
      );
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
