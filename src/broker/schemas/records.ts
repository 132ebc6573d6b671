/**
 * How the registry lies in the Catalog (kind `schemas`): one record per version, written
 * once with a create-only compare-and-set, so two nodes can never both write version n,
 * and one config record per type. A type's records share the key prefix `{type}/`:
 *
 *   {type}/versions/{n}  { type, version, schema, createdAt }
 *   {type}/config        { type, compatibility, updatedAt }
 *
 * Types may hold dots where Catalog keys may not (leading, trailing, doubled): a dot is
 * written as `=`, which no type contains, so the mapping is one-to-one.
 */
import type { CatalogValue } from "../../engine/engine.js";
import { COMPATIBILITY_MODES, type CompatibilityMode, type JsonSchema } from "./types.js";

export const SCHEMAS_KIND = "schemas";

export interface VersionRecord {
  readonly type: string;
  readonly version: number;
  readonly schema: JsonSchema;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

export interface ConfigRecord {
  readonly type: string;
  readonly compatibility: CompatibilityMode;
  readonly updatedAt: number;
}

export type SchemaRecord =
  | ({ readonly record: "version" } & VersionRecord)
  | ({ readonly record: "config" } & ConfigRecord);

const encodeType = (type: string) => type.replaceAll(".", "=");
const decodeType = (segment: string) => segment.replaceAll("=", ".");

/** The prefix every record of `type` starts with. */
export function typePrefix(type: string): string {
  return `${encodeType(type)}/`;
}

export function versionKey(type: string, version: number): string {
  return `${typePrefix(type)}versions/${version}`;
}

export function configKey(type: string): string {
  return `${typePrefix(type)}config`;
}

const KEY = /^([-_=a-zA-Z0-9]{1,200})\/(?:versions\/([1-9][0-9]{0,15})|config)$/;

export function versionValue(record: VersionRecord): CatalogValue {
  return { ...record };
}

export function configValue(record: ConfigRecord): CatalogValue {
  return { ...record };
}

function isMode(value: unknown): value is CompatibilityMode {
  return (COMPATIBILITY_MODES as readonly unknown[]).includes(value);
}

function isSchema(value: unknown): value is JsonSchema {
  return (
    typeof value === "boolean" ||
    (typeof value === "object" && value !== null && !Array.isArray(value))
  );
}

/** What a key names: a type's version, or its config (`version` null); undefined if neither. */
export function parseKey(key: string): { type: string; version: number | null } | undefined {
  const match = KEY.exec(key);
  if (match === null) return undefined;
  const type = decodeType(match[1] as string);
  return { type, version: match[2] === undefined ? null : Number(match[2]) };
}

/** A stored record back into its meaning; undefined for a key or value it cannot read. */
export function decodeRecord(key: string, value: CatalogValue): SchemaRecord | undefined {
  const parsed = parseKey(key);
  if (parsed === undefined) return undefined;
  const { type, version } = parsed;
  if (version !== null) {
    const createdAt = typeof value.createdAt === "number" ? value.createdAt : 0;
    if (!isSchema(value.schema)) return undefined;
    return { record: "version", type, version, schema: value.schema, createdAt };
  }
  if (!isMode(value.compatibility)) return undefined;
  const updatedAt = typeof value.updatedAt === "number" ? value.updatedAt : 0;
  return { record: "config", type, compatibility: value.compatibility, updatedAt };
}
