/** The bodies of the registry's routes, checked before anything is read or written. */
import { type FieldError, failValidation } from "../../core/errors.js";
import { COMPATIBILITY_MODES, type CompatibilityMode, type JsonSchema } from "./types.js";
import { assertValidSchema } from "./validators.js";

function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    failValidation([{ pointer: "", message: `must be an object with ${fields.join(", ")}` }]);
  const input = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const field of Object.keys(input))
    if (!fields.includes(field)) errors.push({ pointer: `/${field}`, message: "unknown field" });
  for (const field of fields)
    if (input[field] === undefined) errors.push({ pointer: `/${field}`, message: "is required" });
  if (errors.length > 0) failValidation(errors);
  return input;
}

/**
 * `{ "schema": … }` (PUT and check): the schema must be a valid JSON Schema 2020-12 within
 * the registry's limits, else 400 `invalid_schema` with pointers into the schema.
 */
export function parseSchemaBody(body: unknown): JsonSchema {
  const { schema } = objectBody(body, ["schema"]);
  assertValidSchema(schema);
  return schema;
}

/** `{ "compatibility": mode }` (PUT …/config). */
export function parseConfigBody(body: unknown): CompatibilityMode {
  const { compatibility } = objectBody(body, ["compatibility"]);
  if (!(COMPATIBILITY_MODES as readonly unknown[]).includes(compatibility))
    failValidation([
      { pointer: "/compatibility", message: `must be one of ${COMPATIBILITY_MODES.join(", ")}` },
    ]);
  return compatibility as CompatibilityMode;
}
