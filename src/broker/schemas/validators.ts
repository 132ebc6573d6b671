import { Ajv2020, type ErrorObject, type Options } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { type FieldError, SwitchyardError } from "../../core/errors.js";
import { linearRegExp } from "./pattern-engine.js";
import {
  dialectProblem,
  keywordProblems,
  SCHEMA_MAX_BYTES,
  SCHEMA_MAX_DEPTH,
  SUPPORTED_FORMATS,
} from "./schema-guard.js";
import { isSchemaObject, pointerToken, tooDeep } from "./schema-walk.js";
import { useFastStringLength } from "./string-length.js";
import type { CompiledSchema, DataViolation, JsonSchema } from "./types.js";
import { useLinearUniqueItems } from "./unique-items.js";

/**
 * The Ajv cache: the only room of the router that imports Ajv. `assertValidSchema` guards
 * the router against a user's schema (API.md "Schemas" limits); `SchemaValidators` compiles
 * checked schemas once per type and version.
 *
 * Ajv options, and why:
 * - `code.regExp`: re2js (linear time) for `pattern` and `patternProperties`.
 * - `strictSchema`, `strictNumbers`: unknown keywords and ignored keywords are mistakes, refused.
 *   `strictTypes`, `strictTuples` and `strictRequired` stay off: they refuse valid 2020-12
 *   schemas such as `{ "required": ["id"] }` without `"type": "object"`.
 * - `allErrors: false`: validation stops at the first failure (speed; at least one error).
 * - no `$data`: keyword values come from the schema only, never from the event.
 * - formats: the 2020-12 formats ajv-formats implements are asserted; others are refused.
 * - `maxLength`/`minLength` decided from `length` where it suffices (string-length.ts), and
 *   `uniqueItems` in one pass, not over every pair (unique-items.ts): the data is the
 *   producer's, so no keyword may cost more than linear time in it.
 * - data nested too deeply for the validator's recursion is a violation, not a crash.
 * - one Ajv instance per type, and schemas are dropped from it once compiled, so an `$id`
 *   or `$anchor` of one type (or of an older version) can never clash with another's.
 */

const AJV_OPTIONS: Options = {
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
  allErrors: false,
  $data: false,
  unicodeRegExp: true,
  code: { regExp: linearRegExp },
  messages: true,
  // Without it a missing optional property named `toString` or `constructor` reads the
  // function off Object.prototype and fails validation.
  ownProperties: true,
};

// ajv-formats is CommonJS: its plugin is the `default` of what Node hands an ES module.
const addFormats = ajvFormats.default;

function newAjv(validateSchema: boolean): Ajv2020 {
  const ajv = new Ajv2020({ ...AJV_OPTIONS, validateSchema });
  addFormats(ajv, [...SUPPORTED_FORMATS]);
  // Ajv resolves `$anchor` but has no keyword for it, so strict mode would refuse it.
  ajv.addKeyword("$anchor");
  useFastStringLength(ajv);
  useLinearUniqueItems(ajv);
  return ajv;
}

// Meta-validation and trial compiles of schemas being checked; emptied after each use.
const checker = newAjv(true);

function invalidSchema(errors: readonly FieldError[]): never {
  const first = errors[0];
  const where = first && first.pointer !== "" ? ` at ${first.pointer}` : "";
  throw new SwitchyardError(
    "invalid_schema",
    `The schema is not valid${where}: ${first?.message ?? "rejected"}`,
    { errors },
  );
}

/**
 * Checks a user's schema against API.md's rules: JSON Schema 2020-12 meta-validation, only
 * local `#…` references, at most 256 KiB as JSON text and 32 levels deep, every pattern
 * compilable by the linear-time engine, only supported formats, and a trial compile.
 * Throws `invalid_schema` (400) with `errors[{pointer, message}]` pointing into the schema.
 */
export function assertValidSchema(schema: unknown): asserts schema is JsonSchema {
  if (typeof schema !== "boolean" && !isSchemaObject(schema)) {
    invalidSchema([{ pointer: "", message: "a schema must be an object or a boolean" }]);
  }
  const deep = tooDeep(schema, SCHEMA_MAX_DEPTH);
  if (deep !== undefined) {
    invalidSchema([
      { pointer: deep, message: `the schema is nested more than ${SCHEMA_MAX_DEPTH} levels deep` },
    ]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > SCHEMA_MAX_BYTES) {
    invalidSchema([
      {
        pointer: "",
        message: `the schema is ${bytes} bytes as JSON; at most ${SCHEMA_MAX_BYTES} are allowed`,
      },
    ]);
  }
  // Ajv throws, rather than reports, on a `$schema` it does not know.
  const dialect = dialectProblem(schema);
  if (dialect) invalidSchema([dialect]);
  if (!checker.validateSchema(schema)) invalidSchema(metaErrors(checker.errors ?? []));
  const problems = keywordProblems(schema, checker);
  if (problems.length > 0) invalidSchema(problems);
  try {
    checker.compile(schema);
  } catch (error) {
    invalidSchema([
      { pointer: "", message: error instanceof Error ? error.message : String(error) },
    ]);
  } finally {
    checker.removeSchema();
  }
}

// One error per pointer (Ajv reports an `anyOf` and each of its branches): the first wins.
function metaErrors(errors: readonly ErrorObject[]): FieldError[] {
  const seen = new Map<string, FieldError>();
  for (const e of errors) {
    if (!seen.has(e.instancePath)) {
      seen.set(e.instancePath, { pointer: e.instancePath, message: e.message ?? "is not valid" });
    }
  }
  return [...seen.values()];
}

const NO_VIOLATIONS: readonly DataViolation[] = Object.freeze([]);
const TOO_DEEP: readonly DataViolation[] = Object.freeze([
  { pointer: "", message: "nests too deeply to validate" },
]);

// Where Ajv names a property (missing, or not allowed), the pointer names it too.
function violationPointer(e: ErrorObject): string {
  const params = e.params as {
    missingProperty?: unknown;
    additionalProperty?: unknown;
    unevaluatedProperty?: unknown;
  };
  const property =
    params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  return typeof property === "string"
    ? `${e.instancePath}/${pointerToken(property)}`
    : e.instancePath;
}

/** Ajv's errors as violations; pointers relative to `data` ("" is its root). */
export function toViolations(errors: readonly ErrorObject[]): readonly DataViolation[] {
  return errors.map((e) => ({
    pointer: violationPointer(e),
    message: e.message ?? "is not valid",
  }));
}

/**
 * Compiled validators per type and version. `compile` is idempotent for a (type, version)
 * (versions are immutable); `forget` drops a type's validators and its Ajv instance.
 */
export class SchemaValidators {
  readonly #ajvByType = new Map<string, Ajv2020>();
  readonly #compiled = new Map<
    string,
    { readonly text: string; readonly compiled: CompiledSchema }
  >();

  /**
   * Compiles a schema that passed `assertValidSchema`; throws `invalid_schema` if Ajv refuses
   * it. The cache also compares the schema's text, so two registries in one process (tests,
   * embedded routers) that reuse a type name and version never share a validator.
   */
  compile(type: string, version: number, schema: JsonSchema): CompiledSchema {
    const key = `${type}@${version}`;
    const text = JSON.stringify(schema);
    const cached = this.#compiled.get(key);
    if (cached?.text === text) return cached.compiled;
    const compiled = this.#compileNew(type, version, schema);
    this.#compiled.set(key, { text, compiled });
    return compiled;
  }

  /** Drops one version, or every version of `type` when `version` is left out. */
  forget(type: string, version?: number): void {
    if (version !== undefined) {
      this.#compiled.delete(`${type}@${version}`);
      return;
    }
    for (const key of this.#compiled.keys()) {
      if (key.startsWith(`${type}@`)) this.#compiled.delete(key);
    }
    this.#ajvByType.delete(type);
  }

  #compileNew(type: string, version: number, schema: JsonSchema): CompiledSchema {
    let ajv = this.#ajvByType.get(type);
    if (!ajv) {
      ajv = newAjv(false);
      this.#ajvByType.set(type, ajv);
    }
    let check: ReturnType<Ajv2020["compile"]>;
    try {
      check = ajv.compile(schema);
    } catch (error) {
      invalidSchema([
        { pointer: "", message: error instanceof Error ? error.message : String(error) },
      ]);
    } finally {
      ajv.removeSchema();
    }
    return {
      type,
      version,
      validate(data) {
        try {
          return check(data) ? NO_VIOLATIONS : toViolations(check.errors ?? []);
        } catch (error) {
          if (error instanceof RangeError) return TOO_DEEP;
          throw error;
        }
      },
    };
  }
}

const shared = new SchemaValidators();

/** Compiles (cached per type and version, process-wide) a checked schema. */
export function compileSchema(type: string, version: number, schema: JsonSchema): CompiledSchema {
  return shared.compile(type, version, schema);
}
