/**
 * A producer that writes through the outbox must check its events against the contract
 * itself, before they are committed: the router checks them only when the relay publishes,
 * and an event it refuses (422) would stop the relay with every later row behind it. So
 * checkout validates each event's `data` against its type's latest registered schema (the
 * one the topic enforces: `GET /v1/schemas/{type}`, readable with any key) and refuses the
 * command when it does not fit — the 422 the router would have answered, with its pointer.
 *
 * Read on every check, not cached: a version registered while the shop runs counts for the
 * next order (contracts.e2e.test.ts registers one and orders at once).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import type { JsonSchema } from "switchyard/client";

export interface Violation {
  readonly pointer: string;
  readonly message: string;
}

/** The event does not fit its type's registered schema (or the type has none). */
export class ContractViolation extends Error {
  readonly code: "schema_violation" | "schema_unknown_type";
  readonly errors: readonly Violation[];

  constructor(code: ContractViolation["code"], message: string, errors: readonly Violation[]) {
    super(message);
    this.code = code;
    this.errors = errors;
  }
}

export class ContractCheck {
  readonly #routerUrl: string;
  readonly #apiKey: string | undefined;

  constructor(routerUrl: string, apiKey: string | undefined) {
    this.#routerUrl = routerUrl;
    this.#apiKey = apiKey;
  }

  async #latest(type: string): Promise<JsonSchema | undefined> {
    const res = await fetch(`${this.#routerUrl}/v1/schemas/${encodeURIComponent(type)}`, {
      headers: this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` },
    });
    if (res.status === 404) return undefined;
    if (!res.ok)
      throw new Error(`reading the schema of ${type}: the router answered ${res.status}`);
    return ((await res.json()) as { schema: JsonSchema }).schema;
  }

  /** Throws `ContractViolation` unless `data` is valid under `type`'s latest schema. */
  async check(type: string, data: unknown): Promise<void> {
    const schema = await this.#latest(type);
    if (schema === undefined)
      throw new ContractViolation("schema_unknown_type", `no schema is registered for ${type}`, []);
    // A fresh Ajv per check: the schema may be a new version, and `$id`s must not clash.
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    ajvFormats.default(ajv);
    const validate = ajv.compile(schema);
    if (validate(data)) return;
    const errors = (validate.errors ?? []).map((e) => {
      const extra =
        e.keyword === "additionalProperties"
          ? `/${String((e.params as { additionalProperty: string }).additionalProperty)}`
          : "";
      return { pointer: `/data${e.instancePath}${extra}`, message: e.message ?? e.keyword };
    });
    throw new ContractViolation(
      "schema_violation",
      `${type} does not match its registered schema: ${errors.map((e) => `${e.pointer} ${e.message}`).join("; ")}`,
      errors,
    );
  }
}
