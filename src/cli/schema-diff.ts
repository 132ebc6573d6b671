/**
 * A structural diff of two JSON Schema documents, for `switchyard schema diff`: what was
 * added, removed or changed, each at a JSON Pointer (into the new schema for additions and
 * changes, into the old one for removals). Arrays of plain values (`required`, `enum`,
 * `type`) are compared as sets, since their order means nothing; arrays of schemas
 * (`prefixItems`, `anyOf`) position by position.
 */

export interface SchemaChange {
  readonly op: "added" | "removed" | "changed";
  readonly pointer: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function pointerToken(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** JSON equality: key order inside objects does not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]))
    );
  }
  return a === b;
}

function diffObjects(before: JsonObject, after: JsonObject, at: string): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const key of Object.keys(before))
    if (!Object.hasOwn(after, key))
      changes.push({ op: "removed", pointer: `${at}/${pointerToken(key)}`, before: before[key] });
    else changes.push(...diffValues(before[key], after[key], `${at}/${pointerToken(key)}`));
  for (const key of Object.keys(after))
    if (!Object.hasOwn(before, key))
      changes.push({ op: "added", pointer: `${at}/${pointerToken(key)}`, after: after[key] });
  return changes;
}

function diffSets(before: readonly unknown[], after: readonly unknown[], at: string) {
  const changes: SchemaChange[] = [];
  before.forEach((item, i) => {
    if (!after.some((other) => sameJson(other, item)))
      changes.push({ op: "removed", pointer: `${at}/${i}`, before: item });
  });
  after.forEach((item, i) => {
    if (!before.some((other) => sameJson(other, item)))
      changes.push({ op: "added", pointer: `${at}/${i}`, after: item });
  });
  return changes;
}

function diffArrays(before: readonly unknown[], after: readonly unknown[], at: string) {
  if (before.every(isPlain) && after.every(isPlain)) return diffSets(before, after, at);
  const changes: SchemaChange[] = [];
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) changes.push(...diffValues(before[i], after[i], `${at}/${i}`));
  for (let i = common; i < before.length; i++)
    changes.push({ op: "removed", pointer: `${at}/${i}`, before: before[i] });
  for (let i = common; i < after.length; i++)
    changes.push({ op: "added", pointer: `${at}/${i}`, after: after[i] });
  return changes;
}

function diffValues(before: unknown, after: unknown, at: string): SchemaChange[] {
  if (isObject(before) && isObject(after)) return diffObjects(before, after, at);
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(before, after, at);
  return sameJson(before, after) ? [] : [{ op: "changed", pointer: at, before, after }];
}

/** The changes from `before` to `after`; empty when they are the same JSON. */
export function diffSchemas(before: unknown, after: unknown): SchemaChange[] {
  return diffValues(before, after, "");
}

const SHOWN_CHARS = 80;

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1)}…` : text;
}

/** One line per change: `+ /pointer  value`, `- /pointer  value`, `~ /pointer  old → new`. */
export function renderChanges(changes: readonly SchemaChange[]): string[] {
  const width = Math.max(0, ...changes.map((c) => (c.pointer || "(root)").length));
  return changes.map((change) => {
    const pointer = (change.pointer || "(root)").padEnd(width);
    if (change.op === "added") return `+ ${pointer}  ${shown(change.after)}`;
    if (change.op === "removed") return `- ${pointer}  ${shown(change.before)}`;
    return `~ ${pointer}  ${shown(change.before)} → ${shown(change.after)}`;
  });
}
