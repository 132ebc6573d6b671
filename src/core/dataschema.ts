/**
 * The `dataschema` URLs a router stamps on validated events (API.md "Schemas"):
 * `{publicUrl}/v1/schemas/{type}/versions/{n}`. The broker stamps and checks them; the CLI's
 * import recognises another router's.
 */

export interface SchemaVersionRef {
  /** Everything before `/v1/schemas/`: the registry's public URL. */
  readonly registry: string;
  readonly type: string;
  readonly version: number;
}

const FORM = /^(.*)\/v1\/schemas\/([a-zA-Z0-9._-]{1,200})\/versions\/([1-9][0-9]{0,14})$/;

/** `url` without trailing slashes, the form `publicUrl` is compared in. */
export function normalizeRegistryUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

export function schemaVersionUrl(publicUrl: string, type: string, version: number): string {
  return `${normalizeRegistryUrl(publicUrl)}/v1/schemas/${type}/versions/${version}`;
}

/** The registry, type and version a `dataschema` names, or undefined when it is not of that form. */
export function parseSchemaVersionUrl(url: string): SchemaVersionRef | undefined {
  const match = FORM.exec(url);
  if (match === null) return undefined;
  const [, registry = "", type = "", version = ""] = match;
  return { registry: normalizeRegistryUrl(registry), type, version: Number(version) };
}

/**
 * Checks a `publicUrl` setting: an absolute http(s) URL without query, fragment or
 * credentials; answers why not, or undefined when it is usable.
 */
export function publicUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not an absolute URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be http(s)";
  if (parsed.search !== "" || parsed.hash !== "") return "must not have a query or fragment";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials";
  return undefined;
}
