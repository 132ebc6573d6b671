import type { Ajv2020 } from "ajv/dist/2020.js";
import type { FieldError } from "../../core/errors.js";
import { patternProblem } from "./pattern-engine.js";
import { isSchemaObject, pointerToken, type SchemaObject, walkSchema } from "./schema-walk.js";
import type { JsonSchema } from "./types.js";

/**
 * The limits API.md sets on a user's schema, as field errors with pointers into the schema.
 * Ajv's own meta-validation and a trial compile (in `validators.ts`) come after these.
 */

export const SCHEMA_MAX_BYTES = 256 * 1024;
export const SCHEMA_MAX_DEPTH = 32;
export const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

/**
 * Formats that are asserted (validated), from ajv-formats: the JSON Schema 2020-12 formats it
 * implements. Any other `format` is refused rather than silently ignored, so a schema never
 * looks stricter than it is.
 */
export const SUPPORTED_FORMATS = [
  "date-time",
  "date",
  "time",
  "duration",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uri",
  "uri-reference",
  "uri-template",
  "uuid",
  "json-pointer",
  "relative-json-pointer",
  "regex",
] as const;

const FORMATS: ReadonlySet<string> = new Set(SUPPORTED_FORMATS);

/** Problems of the keywords the guard owns: references, `$schema`, patterns, formats, unknown keywords. */
export function keywordProblems(schema: JsonSchema, ajv: Ajv2020): FieldError[] {
  const errors: FieldError[] = [];
  walkSchema(schema, (node, at) => {
    for (const key of Object.keys(node)) {
      // The rules Ajv compiles from; strict mode refuses any other keyword.
      if (ajv.RULES.keywords[key] !== true)
        errors.push({ pointer: `${at}/${pointerToken(key)}`, message: `unknown keyword '${key}'` });
    }
    checkRefs(node, at, errors);
    checkPatterns(node, at, errors);
    checkFormat(node, at, errors);
  });
  return errors;
}

function checkRefs(node: SchemaObject, at: string, errors: FieldError[]): void {
  for (const key of ["$ref", "$dynamicRef"]) {
    const ref = node[key];
    if (typeof ref === "string" && !ref.startsWith("#")) {
      errors.push({ pointer: `${at}/${key}`, message: "only local references ('#…') are allowed" });
    }
  }
  const dialect = dialectProblem(node, at);
  if (dialect) errors.push(dialect);
}

/** A `$schema` other than 2020-12's, as a problem at `at`. */
export function dialectProblem(node: JsonSchema, at = ""): FieldError | undefined {
  if (!isSchemaObject(node) || node.$schema === undefined) return undefined;
  if (node.$schema === DRAFT_2020_12 || node.$schema === `${DRAFT_2020_12}#`) return undefined;
  return {
    pointer: `${at}/$schema`,
    message: `only JSON Schema 2020-12 (${DRAFT_2020_12}) is supported`,
  };
}

function checkPatterns(node: SchemaObject, at: string, errors: FieldError[]): void {
  if (typeof node.pattern === "string") {
    const problem = patternProblem(node.pattern);
    if (problem) errors.push({ pointer: `${at}/pattern`, message: problem });
  }
  if (isSchemaObject(node.patternProperties)) {
    for (const key of Object.keys(node.patternProperties)) {
      const problem = patternProblem(key);
      if (problem)
        errors.push({ pointer: `${at}/patternProperties/${pointerToken(key)}`, message: problem });
    }
  }
}

function checkFormat(node: SchemaObject, at: string, errors: FieldError[]): void {
  const format = node.format;
  if (typeof format === "string" && !FORMATS.has(format)) {
    errors.push({
      pointer: `${at}/format`,
      message: `format '${format}' is not supported (supported: ${SUPPORTED_FORMATS.join(", ")})`,
    });
  }
}
