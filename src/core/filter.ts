import { type FieldError, failValidation } from "./errors.js";

/**
 * Subscription filters in the CloudEvents Subscriptions API dialects. Property names are
 * attribute names, or dotted paths into `data` (`data.customer.tier`); values compare as
 * strings, so `{"exact": {"data.total": "42"}}` matches a numeric 42. A missing attribute
 * matches no exact/prefix/suffix condition.
 */
export type Filter =
  | { readonly exact: Readonly<Record<string, string>> }
  | { readonly prefix: Readonly<Record<string, string>> }
  | { readonly suffix: Readonly<Record<string, string>> }
  | { readonly all: readonly Filter[] }
  | { readonly any: readonly Filter[] }
  | { readonly not: Filter };

export type EventPredicate = (event: Readonly<Record<string, unknown>>) => boolean;

const MAX_DEPTH = 16;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function lookup(event: Readonly<Record<string, unknown>>, path: string): string | undefined {
  let value: unknown = event;
  for (const part of path.startsWith("data.") ? ["data", ...path.slice(5).split(".")] : [path]) {
    if (!isRecord(value)) return undefined;
    value = value[part];
  }
  if (value === undefined || value === null || typeof value === "object") return undefined;
  return String(value);
}

function collectErrors(input: unknown, at: string, depth: number, errors: FieldError[]): void {
  if (depth > MAX_DEPTH) {
    errors.push({ pointer: at, message: `filters nest at most ${MAX_DEPTH} deep` });
    return;
  }
  if (!isRecord(input) || Object.keys(input).length !== 1) {
    errors.push({
      pointer: at,
      message: "a filter is an object with exactly one of exact, prefix, suffix, all, any, not",
    });
    return;
  }
  const [dialect, body] = Object.entries(input)[0] as [string, unknown];
  const here = `${at}/${dialect}`;
  if (dialect === "exact" || dialect === "prefix" || dialect === "suffix") {
    if (!isRecord(body) || Object.keys(body).length === 0) {
      errors.push({ pointer: here, message: "must map at least one attribute to a string" });
      return;
    }
    for (const [name, value] of Object.entries(body)) {
      if (typeof value !== "string")
        errors.push({ pointer: `${here}/${name}`, message: "must be a string" });
      if (name === "" || name.endsWith("."))
        errors.push({
          pointer: `${here}/${name}`,
          message: "is not an attribute name or data path",
        });
    }
  } else if (dialect === "all" || dialect === "any") {
    if (!Array.isArray(body) || body.length === 0) {
      errors.push({ pointer: here, message: "must be a non-empty array of filters" });
      return;
    }
    body.forEach((f, i) => {
      collectErrors(f, `${here}/${i}`, depth + 1, errors);
    });
  } else if (dialect === "not") {
    collectErrors(body, here, depth + 1, errors);
  } else {
    errors.push({ pointer: here, message: `unknown filter dialect "${dialect}"` });
  }
}

/** Throws `invalid_filter` (with a pointer per problem) unless `input` is a Filter. */
export function parseFilter(input: unknown, at = "/filter"): Filter {
  const errors: FieldError[] = [];
  collectErrors(input, at, 0, errors);
  if (errors.length > 0) failValidation(errors, "invalid_filter");
  return input as Filter;
}

function matchEach(
  map: Readonly<Record<string, string>>,
  test: (actual: string, wanted: string) => boolean,
): EventPredicate {
  const entries = Object.entries(map);
  return (event) =>
    entries.every(([path, wanted]) => {
      const actual = lookup(event, path);
      return actual !== undefined && test(actual, wanted);
    });
}

/** Compiles a validated filter into a predicate; `null` matches every event. */
export function compileFilter(filter: Filter | null): EventPredicate {
  if (filter === null) return () => true;
  if ("exact" in filter) return matchEach(filter.exact, (a, w) => a === w);
  if ("prefix" in filter) return matchEach(filter.prefix, (a, w) => a.startsWith(w));
  if ("suffix" in filter) return matchEach(filter.suffix, (a, w) => a.endsWith(w));
  if ("all" in filter) {
    const parts = filter.all.map(compileFilter);
    return (event) => parts.every((p) => p(event));
  }
  if ("any" in filter) {
    const parts = filter.any.map(compileFilter);
    return (event) => parts.some((p) => p(event));
  }
  const inner = compileFilter(filter.not);
  return (event) => !inner(event);
}
