import type { Broker } from "../../broker/broker.js";
import type { Need } from "../../broker/scopes.js";
import { defaultDeadLetterTopic } from "../../core/names.js";

/** What a scope rule may look at: the route's params, query and (parsed later) body. */
export interface ScopeInput {
  readonly params: Readonly<Record<string, string>>;
  readonly query: unknown;
  /** The raw body (JSON text or bytes), parsed by the rule that needs it. */
  readonly body: unknown;
  readonly broker: Broker;
}

/** All of these; each is a list of alternatives (any one grants it). */
export type Needs = readonly (readonly Need[])[];

/**
 * How a route is guarded: `open` (no key), `optional` (a key, if sent, must be valid),
 * `key` (any valid key; lists filter by scope), `session` (a dashboard session's cookie,
 * no other credential), or the needs of a request.
 */
export type ScopeRule =
  | { readonly type: "open" | "optional" | "key" | "session"; readonly label: string }
  | {
      readonly type: "needs";
      readonly label: string;
      /** `body`: the rule reads the body or the store, so it runs once the body is in. */
      readonly phase?: "body";
      readonly needs: (input: ScopeInput) => Needs | Promise<Needs>;
    };

const open = { type: "open", label: "open" } as const;
const anyKey = { type: "key", label: "any key" } as const;
const session = { type: "session", label: "a dashboard session (its cookie)" } as const;
const admin: ScopeRule = { type: "needs", label: "admin", needs: () => [[{ kind: "admin" }]] };

function on(
  kind: "manage" | "schemas" | "publish" | "read" | "consume",
  param: string,
  ...others: ("manage" | "consume" | "read")[]
): ScopeRule {
  const kinds = [kind, ...others];
  return {
    type: "needs",
    label: kinds.map((k) => `${k}:{${param}}`).join(" or "),
    needs: ({ params }) => [kinds.map((k) => ({ kind: k, name: params[param] ?? "" }))],
  };
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  try {
    const text = Buffer.isBuffer(body) ? body.toString("utf8") : String(body);
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {}; // the handler answers the parse error
  }
}

/**
 * A subscription reads its topic and writes its dead letters: creating or updating one
 * needs `read:` on the topic and `manage:` on the dead-letter topic, or a key could reach
 * a topic through a subscription that it cannot reach directly. The needs never depend on
 * whether the topic exists (scope before existence): in dev mode a subscription on an
 * unknown topic creates it only for a key that may manage it, which the broker decides when
 * it would create (from the key, `mayManage`); any other key gets 404 `topic_not_found`, as
 * a publish does (it may read the topic, so existence is no secret to it).
 */
const putSubscription: ScopeRule = {
  type: "needs",
  phase: "body",
  label:
    "manage:{name} and read:{topic} and manage:{deadLetterTopic}; an unknown topic is created only with manage:{topic}, else 404",
  needs: async ({ params, body, broker }) => {
    const name = params.name ?? "";
    const input = jsonObject(body);
    let topic = typeof input.topic === "string" ? input.topic : undefined;
    if (topic === undefined)
      topic = await broker.subscriptionConfig(name).then(
        (config) => config.topic,
        () => undefined,
      );
    const needs: Need[][] = [[{ kind: "manage", name }]];
    if (topic === undefined) return needs; // the handler answers `/topic: is required`
    const deadLetter =
      typeof input.deadLetterTopic === "string"
        ? input.deadLetterTopic
        : defaultDeadLetterTopic(topic, name);
    needs.push([{ kind: "read", name: topic }], [{ kind: "manage", name: deadLetter }]);
    return needs;
  },
};

/**
 * Inference reads the topic's events (`read:` on the topic the body names) to propose a
 * schema for the type (`schemas:` on it).
 */
const inferSchema: ScopeRule = {
  type: "needs",
  phase: "body",
  label: "read:{topic} and schemas:{type}",
  needs: ({ params, body }) => {
    const input = jsonObject(body);
    const needs: Need[][] = [[{ kind: "schemas", name: params.type ?? "" }]];
    // Without a topic the handler answers `/topic: is required`.
    if (typeof input.topic === "string") needs.unshift([{ kind: "read", name: input.topic }]);
    return needs;
  },
};

function isForce(query: unknown): boolean {
  return (query as Record<string, unknown> | undefined)?.force === "true";
}

/** `?force=true` deletes the topic's subscriptions too: `manage:` on each of them. */
const deleteTopic: ScopeRule = {
  type: "needs",
  phase: "body",
  label: "manage:{topic}; with force=true also manage: on each of its subscriptions",
  needs: async ({ params, query, broker }) => {
    const topic = params.topic ?? "";
    const needs: Need[][] = [[{ kind: "manage", name: topic }]];
    if (!isForce(query)) return needs;
    for (const sub of await broker.listSubscriptions())
      if (sub.topic === topic) needs.push([{ kind: "manage", name: sub.name }]);
    return needs;
  },
};

/** Every route's rule, keyed `METHOD url` as Fastify registers it. */
export const ROUTE_SCOPES: ReadonlyMap<string, ScopeRule> = new Map<string, ScopeRule>([
  ["PUT /v1/topics/:topic", on("manage", "topic")],
  ["GET /v1/topics", anyKey],
  ["GET /v1/topics/:topic", on("read", "topic", "manage")],
  ["DELETE /v1/topics/:topic", deleteTopic],
  ["POST /v1/topics/:topic/events", on("publish", "topic")],
  ["GET /v1/topics/:topic/events", on("read", "topic")],
  ["GET /v1/topics/:topic/subjects/:subject/events", on("read", "topic")],
  // Pending events are the topic's future events: who may read the log may list them; API.md
  // puts cancelling under `manage:` (a publisher schedules, the topic's manager takes back).
  ["GET /v1/topics/:topic/scheduled", on("read", "topic")],
  ["DELETE /v1/topics/:topic/scheduled/:id", on("manage", "topic")],
  // Any key; the events of topics it may not read are left out and counted (`hidden`).
  [
    "GET /v1/flows/:correlationid",
    { type: "key", label: "any key (events filtered by read:{topic})" },
  ],
  ["PUT /v1/subscriptions/:name", putSubscription],
  ["GET /v1/subscriptions", anyKey],
  ["GET /v1/subscriptions/:name", on("manage", "name", "consume")],
  ["DELETE /v1/subscriptions/:name", on("manage", "name")],
  ["POST /v1/subscriptions/:name/pull", on("consume", "name")],
  ["POST /v1/subscriptions/:name/ack", on("consume", "name")],
  ["POST /v1/subscriptions/:name/nack", on("consume", "name")],
  ["POST /v1/subscriptions/:name/extend", on("consume", "name")],
  ["POST /v1/subscriptions/:name/reject", on("consume", "name")],
  ["POST /v1/subscriptions/:name/seek", on("manage", "name")],
  ["POST /v1/subscriptions/:name/redrive", on("manage", "name")],
  ["GET /v1/subscriptions/:name/redrives/:id", on("consume", "name", "manage")],
  ["POST /v1/subscriptions/:name/pause", on("manage", "name")],
  ["POST /v1/subscriptions/:name/resume", on("manage", "name")],
  ["GET /v1/subscriptions/:name/attempts", on("consume", "name", "manage")],
  ["GET /v1/subscriptions/:name/stream", on("consume", "name")],
  ["POST /v1/keys", admin],
  ["GET /v1/keys", admin],
  ["GET /v1/keys/self", anyKey],
  ["DELETE /v1/keys/:id", admin],
  ["PUT /v1/schemas/:type", on("schemas", "type")],
  ["GET /v1/schemas", anyKey],
  ["GET /v1/schemas/:type", anyKey],
  ["GET /v1/schemas/:type/versions/:n", anyKey],
  ["POST /v1/schemas/:type/check", on("schemas", "type")],
  ["PUT /v1/schemas/:type/config", on("schemas", "type")],
  ["POST /v1/schemas/:type/infer", inferSchema],
  ["GET /v1/asyncapi.json", anyKey],
  ["POST /ui/session", open],
  ["GET /ui/session", session],
  ["DELETE /ui/session", session],
  ["GET /ui/*", open],
  ["GET /healthz", open],
  ["GET /readyz", open],
  ["GET /openapi.json", open],
  ["GET /metrics", { type: "needs", label: "metrics", needs: () => [[{ kind: "metrics" }]] }],
  ["GET /v1/info", { type: "optional", label: "open (version only without a key)" }],
]);

/** The rule of a registered route; throws for one that declares none (at registration). */
export function ruleOf(method: string, url: string): ScopeRule {
  const rule = ROUTE_SCOPES.get(`${method} ${url}`);
  if (rule === undefined)
    throw new Error(
      `route ${method} ${url} declares no scope: add it to ROUTE_SCOPES in src/server/auth/route-scopes.ts`,
    );
  return rule;
}
