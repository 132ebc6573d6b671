import { RE2JS } from "re2js";

/**
 * Ajv's `code.regExp` backed by re2js: `pattern` and `patternProperties` of user schemas run
 * in linear time, so a schema like `{ "pattern": "^(a+)+$" }` cannot stall the event loop.
 * Patterns RE2 cannot express (backreferences, lookaround) fail to compile; the schema
 * guard reports them as `invalid_schema` before Ajv ever sees them.
 */

/** What Ajv calls on a compiled pattern; `toString` is Ajv's cache key, so it names the source. */
export interface LinearPattern {
  test(input: string): boolean;
  toString(): string;
}

class Re2Pattern implements LinearPattern {
  readonly #re: RE2JS;
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
    this.#re = RE2JS.compile(RE2JS.translateRegExp(source));
  }

  test(input: string): boolean {
    return this.#re.test(input);
  }

  toString(): string {
    return `re2:/${this.#source}/`;
  }
}

/** `(pattern, flags) => LinearPattern`, with the `code` tag Ajv requires of an engine. */
export const linearRegExp = Object.assign(
  (source: string, _flags: string): LinearPattern => new Re2Pattern(source),
  { code: "switchyard.re2js" },
);

/** Undefined when `source` compiles in the linear-time engine, else why it does not. */
export function patternProblem(source: string): string | undefined {
  try {
    new Re2Pattern(source);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `pattern is not supported by the linear-time regular expression engine (no backreferences or lookaround): ${reason}`;
  }
}
