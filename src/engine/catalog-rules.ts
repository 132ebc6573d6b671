/**
 * The Catalog's input rules, shared by every engine so they refuse the same things with the
 * same errors: kinds, keys, prefixes, values (a JSON object within the size limit) and the
 * options of `put`/`delete`. Each check throws `invalid_request` before anything is written.
 */
import { SwitchyardError } from "../core/errors.js";
import {
  CATALOG_KEY_PATTERN,
  CATALOG_KIND_PATTERN,
  CATALOG_MAX_VALUE_BYTES,
  type CatalogDeleteOptions,
  type CatalogPutOptions,
  type CatalogValue,
} from "./engine.js";

function invalid(detail: string): SwitchyardError {
  return new SwitchyardError("invalid_request", detail);
}

export function checkKind(kind: string): void {
  if (!CATALOG_KIND_PATTERN.test(kind))
    throw invalid(`catalog kind ${JSON.stringify(kind)} must match [a-z][a-z0-9-]{0,31}`);
}

export function checkKey(kind: string, key: string): void {
  checkKind(kind);
  if (!CATALOG_KEY_PATTERN.test(key))
    throw invalid(
      `catalog key ${JSON.stringify(key.slice(0, 80))} must be 1-512 of [-/_=.a-zA-Z0-9], without a leading, trailing or doubled dot`,
    );
}

/** A prefix is any start of a valid key (it may end with a dot). */
export function checkPrefix(kind: string, prefix: string): void {
  checkKind(kind);
  if (prefix !== "" && !CATALOG_KEY_PATTERN.test(`${prefix}x`))
    throw invalid(`catalog prefix ${JSON.stringify(prefix.slice(0, 80))} cannot start a key`);
}

function checkRevision(revision: number | undefined): void {
  if (revision !== undefined && !(Number.isSafeInteger(revision) && revision >= 0))
    throw invalid(`expectedRevision must be a non-negative integer, not ${revision}`);
}

/** Validates a put; returns the value's JSON text. */
export function checkPut(
  kind: string,
  key: string,
  value: CatalogValue,
  options: CatalogPutOptions,
): string {
  checkKey(kind, key);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid("a catalog value must be a JSON object");
  checkRevision(options.expectedRevision);
  const ttl = options.ttlMs;
  if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0))
    throw invalid(`ttlMs must be a positive integer, not ${ttl}`);
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > CATALOG_MAX_VALUE_BYTES)
    throw invalid(
      `a catalog value is at most ${CATALOG_MAX_VALUE_BYTES} bytes of JSON, not ${bytes}`,
    );
  return text;
}

export function checkDelete(kind: string, key: string, options: CatalogDeleteOptions): void {
  checkKey(kind, key);
  checkRevision(options.expectedRevision);
}

export function revisionConflict(kind: string, key: string, expected: number): SwitchyardError {
  const wanted = expected === 0 ? "to be absent" : `at revision ${expected}`;
  return new SwitchyardError(
    "revision_conflict",
    `catalog record ${kind}/${key} was expected ${wanted}; it changed (re-read and retry)`,
  );
}

/** Whether a record with `expiresAt` is visible at `now`. */
export function isLive(expiresAt: number | null, now: number): boolean {
  return expiresAt === null || expiresAt > now;
}
