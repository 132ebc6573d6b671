/**
 * `GET /v1/asyncapi.json`: an AsyncAPI 3.0.0 document of the router, from a client's side — a
 * client sends to topics and receives from subscriptions. A channel per topic; a message per
 * event type (its latest registered schema as payload, its CloudEvents attributes as binary
 * mode headers) in `components.messages`, referenced from the channels of the topics whose
 * newest events carry that type; a `send` operation per topic users may publish to, a
 * `receive` operation per subscription; the server with its security scheme. Pure: the
 * route gathers the input (what the key may see) and this shapes it.
 */
import type { SubscriptionView } from "../broker/broker.js";
import type { JsonSchema } from "../broker/schemas/types.js";

/**
 * The payload's schema format. The registry keeps JSON Schema 2020-12, which AsyncAPI 3.0
 * does not name (its JSON Schema format is draft-07): a multi-format schema object says
 * what the schema really is, which the AsyncAPI parser accepts unvalidated.
 */
export const PAYLOAD_SCHEMA_FORMAT = "application/schema+json;version=2020-12";

export interface AsyncApiTopic {
  readonly name: string;
  /** Router-owned (`switchyard.*`, dead-letter topics): nobody publishes there. */
  readonly routerOwned: boolean;
  /** Event types among the topic's newest events. */
  readonly types: readonly string[];
}

export interface AsyncApiSchema {
  readonly version: number;
  readonly schema: JsonSchema;
}

export interface AsyncApiInput {
  /** The router's version (`info.version`). */
  readonly version: string;
  /** Where clients reach the router: `publicUrl`, or the URL the request came in on. */
  readonly url: URL;
  readonly auth: boolean;
  readonly topics: readonly AsyncApiTopic[];
  readonly subscriptions: readonly SubscriptionView[];
  /** The latest schema of every registered type. */
  readonly schemas: ReadonlyMap<string, AsyncApiSchema>;
}

type Json = Record<string, unknown>;

const SERVER = "router";
const SECURITY_SCHEME = "apiKey";

/** A JSON Pointer token (RFC 6901). */
function token(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

const ref = (...path: string[]): Json => ({ $ref: `#/${path.map(token).join("/")}` });

function server(input: AsyncApiInput): Json {
  const { url } = input;
  return {
    host: url.host,
    protocol: url.protocol === "https:" ? "https" : "http",
    ...(url.pathname === "/" ? {} : { pathname: url.pathname.replace(/\/$/, "") }),
    title: "Switchyard",
    description: "The router's HTTP API (see /openapi.json); events are CloudEvents 1.0.",
    ...(input.auth ? { security: [ref("components", "securitySchemes", SECURITY_SCHEME)] } : {}),
  };
}

function securitySchemes(input: AsyncApiInput): Json {
  if (!input.auth) return {};
  const apiKey = {
    type: "http",
    scheme: "bearer",
    bearerFormat: "sy_<id>_<secret>",
    description:
      "An API key in `Authorization: Bearer`. Scopes: `publish:<topic>` to send, `consume:<subscription>` to receive, `read:<topic>` to read a topic's log.",
  };
  return { securitySchemes: { [SECURITY_SCHEME]: apiKey } };
}

/** The CloudEvents attributes as HTTP binary mode sends them (`ce-` headers). */
function headers(type: string): Json {
  const text = (description: string) => ({ type: "string", description });
  return {
    type: "object",
    description:
      "The CloudEvents attributes, as HTTP headers in binary mode; in structured and batch mode they are members of the JSON envelope, without the `ce-` prefix, beside `data`.",
    properties: {
      "ce-specversion": { type: "string", const: "1.0" },
      "ce-id": text("Unique per source; a repeat inside the topic's dedupe window is dropped."),
      "ce-source": text("Who sent the event (a URI reference)."),
      "ce-type": { type: "string", const: type },
      "ce-time": {
        type: "string",
        format: "date-time",
        description: "Filled in by the router when absent.",
      },
      "ce-subject": text("What the event is about."),
      "ce-dataschema": {
        type: "string",
        format: "uri",
        description: "Set by the router to the schema version the event was validated against.",
      },
      "ce-partitionkey": text("The ordering key: events of one key are delivered in order."),
      "content-type": text("The `datacontenttype` of the payload."),
    },
    required: ["ce-specversion", "ce-id", "ce-source", "ce-type"],
  };
}

/** Where each `$anchor` of a schema sits, as a JSON Pointer from the schema's root. */
function anchors(schema: unknown): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (value: unknown, at: string): void => {
    if (typeof value !== "object" || value === null) return;
    const anchor = (value as Json).$anchor;
    if (typeof anchor === "string" && !found.has(anchor)) found.set(anchor, at);
    for (const [key, member] of Object.entries(value)) visit(member, `${at}/${token(key)}`);
  };
  visit(schema, "");
  return found;
}

/**
 * A registered schema placed in the document at `base`: its local references (`#/...` and
 * `#anchor`) are relative to the schema itself, so they are rewritten to point there from
 * the document's root, where an AsyncAPI parser resolves them.
 */
function placed(schema: JsonSchema, base: string): unknown {
  const named = anchors(schema);
  const target = (ref: string): string | undefined => {
    if (ref === "#" || ref.startsWith("#/")) return `${base}${ref.slice(1)}`;
    const at = ref.startsWith("#") ? named.get(decodeURIComponent(ref.slice(1))) : undefined;
    return at === undefined ? undefined : `${base}${at}`;
  };
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value as Json).map(([key, member]) => {
      const moved = key === "$ref" && typeof member === "string" ? target(member) : undefined;
      return [key, moved ?? visit(member)];
    });
    return Object.fromEntries(entries);
  };
  return visit(schema);
}

function message(type: string, registered: AsyncApiSchema | undefined): Json {
  const common = {
    name: type,
    title: type,
    contentType: "application/json",
    headers: headers(type),
  };
  if (registered === undefined)
    return {
      ...common,
      summary: `A CloudEvent of type ${type}; no schema is registered for it.`,
    };
  const base = `#/components/messages/${token(type)}/payload/schema`;
  return {
    ...common,
    summary: `A CloudEvent of type ${type}; its data follows schema version ${registered.version}.`,
    payload: { schemaFormat: PAYLOAD_SCHEMA_FORMAT, schema: placed(registered.schema, base) },
    "x-switchyard-schema": {
      version: registered.version,
      path: `/v1/schemas/${type}/versions/${registered.version}`,
    },
  };
}

function messages(input: AsyncApiInput): Json {
  const types = new Set(input.schemas.keys());
  for (const topic of input.topics) for (const type of topic.types) types.add(type);
  const sorted = [...types].sort();
  return Object.fromEntries(sorted.map((type) => [type, message(type, input.schemas.get(type))]));
}

function channel(topic: AsyncApiTopic): Json {
  const owned = topic.routerOwned ? " Router-owned: only the router appends to it." : "";
  return {
    address: `/v1/topics/${topic.name}/events`,
    title: topic.name,
    description: `Topic ${topic.name}. Its messages are the event types among its newest events.${owned}`,
    messages: Object.fromEntries(topic.types.map((t) => [t, ref("components", "messages", t)])),
  };
}

function channelMessages(topic: AsyncApiTopic): Json[] {
  return topic.types.map((t) => ref("channels", topic.name, "messages", t));
}

function sendOperation(topic: AsyncApiTopic): Json {
  return {
    action: "send",
    channel: ref("channels", topic.name),
    title: `Publish to ${topic.name}`,
    description: `POST /v1/topics/${topic.name}/events: one CloudEvent (structured or binary mode) or a batch.`,
    bindings: { http: { method: "POST", bindingVersion: "0.3.0" } },
    messages: channelMessages(topic),
    "x-switchyard-scope": `publish:${topic.name}`,
  };
}

/** Where a push subscription delivers: scheme, host and path only (no credentials, no query). */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(not a URL)";
  }
}

function receiveOperation(sub: SubscriptionView, topic: AsyncApiTopic): Json {
  const common = {
    action: "receive",
    channel: ref("channels", topic.name),
    title: `Subscription ${sub.name}`,
    messages: channelMessages(topic),
    "x-switchyard-scope": `consume:${sub.name}`,
  };
  const subscription = { name: sub.name, topic: sub.topic, filter: sub.filter };
  if (sub.push === null)
    return {
      ...common,
      description: `Pull: POST /v1/subscriptions/${sub.name}/pull, then ack, nack, extend or reject each delivery; or stream over WebSocket at /v1/subscriptions/${sub.name}/stream.`,
      bindings: { http: { method: "POST", bindingVersion: "0.3.0" } },
      "x-switchyard-subscription": { ...subscription, delivery: "pull" },
    };
  const endpoint = endpointOf(sub.push.url);
  return {
    ...common,
    description: `Push: the router POSTs each event to ${endpoint} (${sub.push.mode} mode), signed per Standard Webhooks; a 2xx answer acknowledges it.`,
    "x-switchyard-subscription": {
      ...subscription,
      delivery: "push",
      push: { endpoint, mode: sub.push.mode },
    },
  };
}

function operations(input: AsyncApiInput): Json {
  const byName = new Map(input.topics.map((t) => [t.name, t]));
  const found: [string, Json][] = [];
  for (const topic of input.topics)
    if (!topic.routerOwned) found.push([`send.${topic.name}`, sendOperation(topic)]);
  for (const sub of input.subscriptions) {
    const topic = byName.get(sub.topic);
    if (topic !== undefined) found.push([`receive.${sub.name}`, receiveOperation(sub, topic)]);
  }
  return Object.fromEntries(found);
}

export function asyncApiDocument(input: AsyncApiInput): Json {
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Switchyard",
      version: input.version,
      description:
        "The topics and subscriptions of this router that the requesting key may see, with the event types they carry and the schemas registered for them.",
    },
    defaultContentType: "application/json",
    servers: { [SERVER]: server(input) },
    channels: Object.fromEntries(input.topics.map((t) => [t.name, channel(t)])),
    operations: operations(input),
    components: { messages: messages(input), ...securitySchemes(input) },
  };
}
