/**
 * The shop's event contracts: one JSON Schema 2020-12 document per event type and version in
 * `schemas/<type>/<version>.json` — the layout `switchyard schema check --dir` reads, so CI
 * can check a new version against the earlier ones without a router. Versions are never
 * edited: a change is the next file, registered after the ones before it, as the registry
 * keeps them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { JsonSchema, SwitchyardClient } from "switchyard/client";

export const SCHEMAS_DIR = join(import.meta.dirname, "schemas");

/** Every type's versions in order (index 0 = version 1); a gap in the numbering throws. */
export function readSchemas(dir = SCHEMAS_DIR): Map<string, JsonSchema[]> {
  const schemas = new Map<string, JsonSchema[]>();
  for (const type of readdirSync(dir).sort()) {
    const versions = readdirSync(join(dir, type))
      .filter((file) => /^[1-9]\d*\.json$/.test(file))
      .map((file) => Number.parseInt(file, 10))
      .sort((a, b) => a - b);
    if (versions.length === 0 || versions.some((v, i) => v !== i + 1)) {
      throw new Error(`${dir}/${type}: versions must run 1..N, found ${versions.join(", ")}`);
    }
    schemas.set(
      type,
      versions.map((v) => JSON.parse(readFileSync(join(dir, type, `${v}.json`), "utf8"))),
    );
  }
  return schemas;
}

/** What `registerSchemas` sent: `created: false` when the registry already had that version. */
export interface Registration {
  readonly type: string;
  readonly version: number;
  readonly created: boolean;
}

/**
 * Registers each type's versions the registry does not have yet, in order, up to
 * `upTo[type]` (default: all). Versions it has are left alone; the newest one it has is sent
 * again, which answers that version when the file still equals it (a kept data directory)
 * and otherwise fails here, before any service starts on a schema other than the file's.
 */
export async function registerSchemas(
  admin: SwitchyardClient,
  schemas: ReadonlyMap<string, readonly JsonSchema[]>,
  upTo: Readonly<Record<string, number>> = {},
): Promise<Registration[]> {
  const sent: Registration[] = [];
  const latest = new Map((await admin.admin.schemas.list()).map((s) => [s.type, s.latest]));
  for (const [type, versions] of schemas) {
    const last = Math.min(upTo[type] ?? versions.length, versions.length);
    for (let version = Math.max(1, latest.get(type) ?? 1); version <= last; version++) {
      const answer = await admin.admin.schemas.put(type, versions[version - 1] as JsonSchema);
      if (answer.version !== version) {
        throw new Error(
          `schema ${type}: schemas/${type}/${version}.json is version ${answer.version} in the registry; the folder and the registry differ`,
        );
      }
      sent.push({ type, version, created: answer.created });
    }
  }
  return sent;
}
