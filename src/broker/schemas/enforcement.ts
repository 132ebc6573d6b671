/**
 * The publish pipeline's schema check (API.md "Schemas", "Topic validation"): one
 * `validate(topic, events)` per request, called only for topics whose mode is not `off`.
 * Compiled schemas come from a `SchemaLookup` (memory only), so a publish never waits on the
 * store. Under `enforce` any problem rejects the whole request (422); under `warn` the event
 * is appended as sent and the problem counted. Events that pass are stamped with
 * `dataschema` = `{publicUrl}/v1/schemas/{type}/versions/{n}`.
 */
import type { TopicConfig } from "../../core/config.js";
import {
  normalizeRegistryUrl,
  parseSchemaVersionUrl,
  schemaVersionUrl,
} from "../../core/dataschema.js";
import { type FieldError, SwitchyardError } from "../../core/errors.js";
import { type CloudEvent, isJsonMediaType } from "../../core/event.js";
import type { CompiledSchema, SchemaLookup } from "./types.js";

/** Why an event failed, as `switchyard_schema_violations_total` labels it (a closed set). */
export type ViolationReason = "data" | "not_json" | "dataschema" | "unknown_type";

interface Verdict {
  /** Pointers relative to the event. */
  readonly problem?: FieldError;
  readonly reason?: ViolationReason;
  /** The `dataschema` to store, when the event passed a schema. */
  readonly dataschema?: string;
}

const PASSED: Verdict = {};

export interface PublicUrlSettings {
  /** The operator's `publicUrl`, when set. */
  readonly publicUrl?: string;
  /** The router binds an any-address (`0.0.0.0`, `::`): its listen URL names no one host. */
  readonly wildcardBind: boolean;
}

function notJson(event: CloudEvent): string | undefined {
  if (event.data_base64 !== undefined) return "is binary (data_base64)";
  if (event.datacontenttype !== undefined && !isJsonMediaType(event.datacontenttype))
    return `has datacontenttype ${event.datacontenttype}`;
  if (event.data === undefined) return "is missing";
  return undefined;
}

export class SchemaEnforcement {
  readonly #lookup: SchemaLookup;
  readonly #onWarn: (topic: string, reason: ViolationReason) => void;
  #settings: PublicUrlSettings = { wildcardBind: false };
  #registry: string | undefined;
  /** The stamp per compiled version, for the current registry URL. */
  #urls = new WeakMap<CompiledSchema, string>();

  constructor(lookup: SchemaLookup, onWarn: (topic: string, reason: ViolationReason) => void) {
    this.#lookup = lookup;
    this.#onWarn = onWarn;
  }

  /** The operator's settings; before the router serves. */
  configure(settings: PublicUrlSettings): void {
    this.#settings = settings;
    if (settings.publicUrl !== undefined) this.#registry = normalizeRegistryUrl(settings.publicUrl);
  }

  /** The operator's `publicUrl`, when set. */
  get publicUrl(): string | undefined {
    return this.#settings.publicUrl;
  }

  /** The URL the router listens on: the registry's URL unless `publicUrl` is set. */
  listening(url: string): void {
    if (this.#settings.publicUrl === undefined) this.#setRegistry(url);
  }

  #setRegistry(url: string): void {
    this.#registry = normalizeRegistryUrl(url);
    this.#urls = new WeakMap();
  }

  /** True when a topic may not enforce: a wildcard bind and no `publicUrl`. */
  get publicUrlMissing(): boolean {
    return this.#settings.wildcardBind && this.#settings.publicUrl === undefined;
  }

  /** Throws 400 at `/schemas/mode` when `config` turns enforcement on without a usable publicUrl. */
  vetTopic(config: TopicConfig): void {
    if (config.schemas?.mode !== "enforce" || !this.publicUrlMissing) return;
    throw new SwitchyardError(
      "invalid_request",
      "this router binds a wildcard address and has no publicUrl, so dataschema URLs would name no reachable registry: set publicUrl (--public-url, SWITCHYARD_PUBLIC_URL) before a topic enforces",
      { errors: [{ pointer: "/schemas/mode", message: "enforce needs the router's publicUrl" }] },
    );
  }

  /**
   * Checks checked CloudEvents of one request against `topic.schemas` (mode `warn` or
   * `enforce`); answers the events to store (stamped where they passed, the input array
   * when nothing changed). Under `enforce` throws 422 with every problem's pointer
   * (`/data/total`, `/1/data/total` in a batch).
   */
  validate(
    topic: TopicConfig,
    events: readonly CloudEvent[],
    batch: boolean,
  ): readonly CloudEvent[] {
    const enforce = topic.schemas?.mode === "enforce";
    const allowUnregistered = topic.schemas?.allowUnregisteredTypes ?? true;
    const registry = this.#registryUrl();
    const errors: FieldError[] = [];
    let unknownOnly = true;
    let out: CloudEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as CloudEvent;
      const verdict = this.#check(event, allowUnregistered, registry);
      if (verdict.problem !== undefined) {
        if (!enforce) this.#onWarn(topic.name, verdict.reason ?? "data");
        else {
          const at = batch ? `/${i}` : "";
          errors.push({ pointer: at + verdict.problem.pointer, message: verdict.problem.message });
          if (verdict.reason !== "unknown_type") unknownOnly = false;
        }
      } else if (verdict.dataschema !== undefined && verdict.dataschema !== event.dataschema) {
        out ??= events.slice();
        out[i] = { ...event, dataschema: verdict.dataschema };
      }
    }
    if (errors.length > 0) refuse(topic.name, errors, unknownOnly);
    return out ?? events;
  }

  #registryUrl(): string {
    if (this.#registry === undefined)
      throw new SwitchyardError("internal", "the router's publicUrl is not known yet");
    return this.#registry;
  }

  #check(event: CloudEvent, allowUnregistered: boolean, registry: string): Verdict {
    let compiled: CompiledSchema | undefined;
    if (event.dataschema !== undefined) {
      const named = this.#named(event, registry);
      if (!("compiled" in named)) return named;
      compiled = named.compiled;
    }
    compiled ??= this.#lookup.latest(event.type);
    if (compiled === undefined) {
      if (allowUnregistered) return PASSED;
      return {
        problem: { pointer: "/type", message: `no schema is registered for type ${event.type}` },
        reason: "unknown_type",
      };
    }
    return dataVerdict(event, compiled, this.#urlOf(compiled, registry));
  }

  // The stamp of one version, built once per registry URL.
  #urlOf(compiled: CompiledSchema, registry: string): string {
    let url = this.#urls.get(compiled);
    if (url === undefined) {
      url = schemaVersionUrl(registry, compiled.type, compiled.version);
      this.#urls.set(compiled, url);
    }
    return url;
  }

  /** The version a producer's `dataschema` names, when it names this registry and type. */
  #named(event: CloudEvent, registry: string): Verdict | { readonly compiled: CompiledSchema } {
    const ref = parseSchemaVersionUrl(event.dataschema ?? "");
    if (ref === undefined || ref.registry !== registry || ref.type !== event.type)
      return dataschemaProblem(
        `does not name this router's schema of type ${event.type} (${registry}/v1/schemas/${event.type}/versions/{n})`,
      );
    const compiled = this.#lookup.version(event.type, ref.version);
    if (compiled !== undefined) return { compiled };
    return dataschemaProblem(`type ${event.type} has no version ${ref.version}`);
  }
}

function dataschemaProblem(message: string): Verdict {
  return { problem: { pointer: "/dataschema", message }, reason: "dataschema" };
}

function dataVerdict(event: CloudEvent, compiled: CompiledSchema, dataschema: string): Verdict {
  const which = `${compiled.type} version ${compiled.version}`;
  const unusable = notJson(event);
  if (unusable !== undefined)
    return {
      problem: {
        pointer: "/data",
        message: `${unusable}: only JSON data can be checked against ${which}`,
      },
      reason: "not_json",
    };
  const [first] = compiled.validate(event.data);
  if (first !== undefined)
    return {
      problem: { pointer: `/data${first.pointer}`, message: `${first.message} (${which})` },
      reason: "data",
    };
  return { dataschema };
}

function refuse(topic: string, errors: readonly FieldError[], unknownOnly: boolean): never {
  const first = errors[0];
  throw new SwitchyardError(
    unknownOnly ? "schema_unknown_type" : "schema_violation",
    errors.length === 1 && first
      ? `${first.pointer || "event"}: ${first.message}`
      : `${errors.length} events fail topic ${topic}'s schema check`,
    { errors },
  );
}
