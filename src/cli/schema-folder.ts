/**
 * A folder of schema files, the registry's shape on disk, for checks without a router (a CI
 * job): `DIR/<type>/<version>.json` holds one version's schema (`1.json`, `2.json`, …) and
 * `DIR/<type>/config.json` may hold `{ "compatibility": "FULL" }`. `switchyard schema pull
 * DIR` writes it from a router; other files in a type's folder are left alone.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { usage } from "./fail.js";

export interface VersionFile {
  readonly version: number;
  readonly path: string;
  readonly schema: unknown;
}

export interface TypeFolder {
  readonly type: string;
  /** Oldest first. */
  readonly versions: readonly VersionFile[];
  /** As `config.json` spells it; the caller checks it is a mode. */
  readonly compatibility: string | undefined;
}

const VERSION_FILE = /^([1-9]\d{0,8})\.json$/;
const CONFIG_FILE = "config.json";

/** A JSON file's value (`-`: standard input); a missing or malformed file is a usage failure. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot read ${path} (${why})`, "check the path");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw usage(`${path} is not JSON: ${why}`, "a schema file holds one JSON Schema document");
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function readCompatibility(dir: string): string | undefined {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  const config = readJsonFile(path);
  const mode = (config as { compatibility?: unknown } | null)?.compatibility;
  if (typeof mode !== "string")
    throw usage(
      `${path} has no "compatibility"`,
      'write e.g. { "compatibility": "BACKWARD" }, or delete the file for the default',
    );
  return mode;
}

/** The versions of `type` under `root` (none when its folder is absent); `root` must exist. */
export function readTypeFolder(root: string, type: string): TypeFolder {
  if (!isDirectory(root))
    throw usage(
      `${root} is not a folder`,
      "--dir names a folder of DIR/<type>/<version>.json files (see `switchyard schema pull`)",
    );
  const dir = join(root, type);
  if (!isDirectory(dir)) return { type, versions: [], compatibility: undefined };
  const versions = readdirSync(dir)
    .flatMap((name) => {
      const match = VERSION_FILE.exec(name);
      return match ? [{ version: Number(match[1]), path: join(dir, name) }] : [];
    })
    .sort((a, b) => a.version - b.version)
    .map((file) => ({ ...file, schema: readJsonFile(file.path) }));
  assertContiguous(dir, versions);
  return { type, versions, compatibility: readCompatibility(dir) };
}

/** Like the registry's, a folder's versions run 1, 2, … N: checks name versions by position. */
function assertContiguous(dir: string, versions: readonly VersionFile[]): void {
  const gap = versions.findIndex((v, i) => v.version !== i + 1);
  if (gap === -1) return;
  throw usage(
    `${dir} holds versions ${versions.map((v) => v.version).join(", ")}: version ${gap + 1} is missing`,
    "keep every version, 1.json to the latest, as `switchyard schema pull` writes them",
  );
}

/**
 * What a candidate file is checked against: every version in the folder, or, when the file
 * is one of them, the versions before it (so a CI job can check the newest file in place).
 */
export function historyFor(folder: TypeFolder, candidatePath: string): readonly VersionFile[] {
  const candidate = resolve(candidatePath);
  const own = folder.versions.find((v) => resolve(v.path) === candidate);
  return own === undefined
    ? folder.versions
    : folder.versions.filter((v) => v.version < own.version);
}

/** One version of `type` from the folder; a usage failure when it is not there. */
export function versionFile(folder: TypeFolder, root: string, version: number): VersionFile {
  const found = folder.versions.find((v) => v.version === version);
  if (found) return found;
  throw usage(
    `${join(root, folder.type, `${version}.json`)} does not exist`,
    `the folder holds versions ${folder.versions.map((v) => v.version).join(", ") || "none"} of ${folder.type}`,
  );
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the versions and mode of `type` under `root`; answers how many version files were new. */
export function writeTypeFolder(
  root: string,
  type: string,
  versions: readonly { readonly version: number; readonly schema: unknown }[],
  compatibility: string,
): number {
  const dir = join(root, type);
  try {
    mkdirSync(dir, { recursive: true });
    let fresh = 0;
    for (const { version, schema } of versions) {
      const path = join(dir, `${version}.json`);
      if (!existsSync(path)) fresh++;
      writeJson(path, schema);
    }
    writeJson(join(dir, CONFIG_FILE), { compatibility });
    return fresh;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot write into ${dir} (${why})`, "check that the folder is writable");
  }
}
