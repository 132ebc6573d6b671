/** JSON helpers the checker needs: structural equality, value kinds, pointers, regex tests. */

export type SchemaObject = { readonly [keyword: string]: unknown };

export function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON equality as JSON Schema defines it: key order does not matter, 1 equals 1.0. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

/** The JSON Schema instance kinds, with numbers split so that `integer` ⊂ `number` is a union. */
export type Kind = "null" | "boolean" | "string" | "integer" | "fraction" | "array" | "object";

export const ALL_KINDS: readonly Kind[] = [
  "null",
  "boolean",
  "string",
  "integer",
  "fraction",
  "array",
  "object",
];

export function kindOf(value: unknown): Kind | undefined {
  if (value === null) return "null";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "fraction";
  if (Array.isArray(value)) return "array";
  if (isObject(value)) return "object";
  return undefined;
}

/** The kinds a `type` keyword value names; undefined when the value is not a type name. */
export function kindsOfType(name: unknown): readonly Kind[] | undefined {
  switch (name) {
    case "number":
      return ["integer", "fraction"];
    case "null":
    case "boolean":
    case "string":
    case "integer":
    case "array":
    case "object":
      return [name];
    default:
      return undefined;
  }
}

export function nounOf(kinds: readonly Kind[]): string {
  const set = new Set(kinds);
  const words: string[] = [];
  if (set.has("integer") && set.has("fraction")) words.push("numbers");
  else if (set.has("integer")) words.push("integers");
  else if (set.has("fraction")) words.push("non-integer numbers");
  const names: Record<Kind, string> = {
    null: "null",
    boolean: "booleans",
    string: "strings",
    integer: "",
    fraction: "",
    array: "arrays",
    object: "objects",
  };
  for (const kind of ALL_KINDS) if (names[kind] && set.has(kind)) words.push(names[kind]);
  return words.join(", ");
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export function escapePointer(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function child(pointer: string, ...segments: (string | number)[]): string {
  return pointer + segments.map((s) => `/${escapePointer(s)}`).join("");
}

/** Walks a JSON Pointer into `root`; undefined when it does not lead anywhere. */
export function walkPointer(root: unknown, pointer: string): { found: boolean; value: unknown } {
  if (pointer === "") return { found: true, value: root };
  if (!pointer.startsWith("/")) return { found: false, value: undefined };
  let at: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(at) && /^(0|[1-9][0-9]*)$/.test(segment)) at = at[Number(segment)];
    else if (isObject(at) && Object.hasOwn(at, segment)) at = at[segment];
    else return { found: false, value: undefined };
    if (at === undefined) return { found: false, value: undefined };
  }
  return { found: true, value: at };
}

const regexCache = new Map<string, RegExp | null>();

/**
 * Whether `pattern` (as Ajv runs it: a Unicode RegExp, unanchored) matches `text`; undefined
 * when the pattern does not compile here. Only ever run on literal names and values.
 */
export function patternMatches(pattern: string, text: string): boolean | undefined {
  let regex = regexCache.get(pattern);
  if (regex === undefined) {
    try {
      regex = new RegExp(pattern, "u");
    } catch {
      regex = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, regex);
  }
  return regex === null ? undefined : regex.test(text);
}

/** A value as it reads in a message: JSON, shortened. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
