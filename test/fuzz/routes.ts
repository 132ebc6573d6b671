/**
 * THE route → generator table: one entry per route of the router's own route table. The
 * fuzz test fails when a route has no entry here (or an entry names no route), so a new
 * route cannot escape the fuzzer. Each entry describes a mostly valid request: valid path
 * parameters (seeded resources, or fresh valid names), query and body; `fuzzRequest` then
 * applies one mutation.
 */
import fc from "fast-check";
import { hostileQuery, hostileSegment, type JsonLike, mutatedBody } from "./arbitraries.js";
import { type Fixtures, FUZZ_SCHEMA } from "./fuzz-router.js";
import { type HeaderList, hostileCeHeader, hostileHeaders } from "./header-arbitraries.js";
import type { RawRequest } from "./raw-http.js";

export interface RouteSpec {
  /** A valid-looking value for each `:param` of the route. */
  readonly params?: Readonly<Record<string, fc.Arbitrary<string>>>;
  readonly query?: fc.Arbitrary<string>;
  /** A valid JSON body (sent as `application/json`). */
  readonly body?: fc.Arbitrary<JsonLike>;
  /** Publishing: structured, batch or binary mode instead of a JSON body. */
  readonly publish?: true;
  /** The WebSocket route: valid requests are upgrade requests. */
  readonly websocket?: true;
  /**
   * A success may start background work (push deliveries, a redrive job) that changes the
   * store after the answer: the fuzzer waits longer for the store to settle.
   */
  readonly background?: true;
}

export interface FuzzCase {
  readonly route: string;
  /** The route's success may start background work (see RouteSpec.background). */
  readonly background: boolean;
  readonly label: string;
  readonly request: RawRequest;
}

const names = (fixed: readonly string[], fresh: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fixed) },
    { weight: 1, arbitrary: fc.nat({ max: 50 }).map((n) => `${fresh}-${n}`) },
  );

const smallInt = (min: number, max: number) => fc.integer({ min, max });

function filter(): fc.Arbitrary<JsonLike> {
  return fc.constantFrom<JsonLike>(
    { exact: { type: "fuzz.seeded" } },
    { prefix: { source: "/fu" } },
    { suffix: { type: "seeded" } },
    { exact: { "data.total": 10 } },
    { all: [{ exact: { type: "fuzz.seeded" } }, { not: { exact: { partitionkey: "k1" } } }] },
    { any: [{ exact: { partitionkey: "k0" } }, { prefix: { id: "fz-ev-1" } }] },
  );
}

function cloudEvent(): fc.Arbitrary<Record<string, JsonLike>> {
  return fc
    .record(
      {
        specversion: fc.constant("1.0"),
        id: fc.oneof(fc.constantFrom("fz-ev-1", "fz-dup"), fc.uuid()),
        source: fc.constantFrom("/fuzz", "urn:fuzz"),
        type: fc.constantFrom("fuzz.published", "fuzz.seeded"),
        subject: fc.constantFrom("order-1", "a/b"),
        time: fc.constant("2026-12-03T10:00:00Z"),
        partitionkey: fc.constantFrom("k0", "k1"),
        datacontenttype: fc.constant("application/json"),
        data: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonLike>,
      },
      { requiredKeys: ["specversion", "id", "source", "type"] },
    )
    .map((e) => e as Record<string, JsonLike>);
}

/** The table, for the seeded resources of one router. */
export function routeSpecs(f: Fixtures): Readonly<Record<string, RouteSpec>> {
  const topic = names(f.topics, "fz-new-topic");
  const sub = names(f.subscriptions, "fz-new-sub");
  const pullSub = names([f.pullSubscription], "fz-new-sub");
  const pushSub = names([f.pushSubscription], "fz-new-sub");
  const ackIds = fc.subarray([...f.ackIds], { minLength: 1, maxLength: 4 });
  const topicBody = fc.record(
    {
      retention: fc.record(
        {
          maxAgeMs: smallInt(86_400_000, 864_000_000),
          maxBytes: smallInt(2 ** 30, 2 ** 31),
          maxEvents: smallInt(1_000_000, 10_000_000),
        },
        { requiredKeys: [] },
      ),
      dedupeWindowMs: smallInt(0, 600_000),
      maxEventBytes: smallInt(1_024, 1_048_576),
      schemas: fc.record(
        {
          mode: fc.constantFrom("off", "warn", "enforce"),
          allowUnregisteredTypes: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      indexes: fc.constantFrom<JsonLike>([], ["correlationid"]),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonLike>;
  const push = fc.record(
    {
      url: fc.constant(f.sinkUrl),
      headers: fc.constantFrom({}, { "x-fuzz": "1" }),
      timeoutMs: smallInt(1_000, 10_000),
      mode: fc.constantFrom("binary", "structured"),
      secret: fc.constant("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    },
    { requiredKeys: ["url"] },
  );
  const subscriptionBody = fc.record(
    {
      topic: fc.constantFrom(...f.topics),
      filter: filter(),
      start: fc.constantFrom<JsonLike>(
        "latest",
        "earliest",
        { offset: 5 },
        { time: "2026-12-01T00:00:00Z" },
      ),
      ackTimeoutMs: smallInt(3_600_000, 7_200_000),
      maxAttempts: smallInt(1, 20),
      backoff: fc.record({
        initialMs: smallInt(100, 1_000),
        maxMs: smallInt(10_000, 600_000),
        multiplier: fc.constantFrom(1, 2, 3),
      }),
      ordering: fc.constantFrom("none", "key"),
      maxInFlight: smallInt(1, 1_000),
      push,
    },
    { requiredKeys: ["topic"] },
  ) as fc.Arbitrary<JsonLike>;
  const schemaType = names([f.schemaType], "fz.new.type");
  // The seeded version, a compatible change, a breaking one, and nonsense for the meta-schema.
  const schemaBody = fc.record({
    schema: fc.constantFrom<JsonLike>(
      FUZZ_SCHEMA,
      {
        ...FUZZ_SCHEMA,
        properties: { ...FUZZ_SCHEMA.properties, note: { type: "string" } },
      } as JsonLike,
      { ...FUZZ_SCHEMA, required: ["id", "total"] } as JsonLike,
      { type: "object", properties: { id: { type: 7 } } },
      true,
    ),
  }) as fc.Arbitrary<JsonLike>;
  const settle = (extra: Record<string, fc.Arbitrary<JsonLike>> = {}) =>
    fc.record({ ackIds, ...extra }) as fc.Arbitrary<JsonLike>;
  return {
    "GET /healthz": {},
    "GET /readyz": {},
    "GET /metrics": {},
    "GET /v1/info": {},
    "GET /openapi.json": {},
    "GET /v1/topics": {},
    "PUT /v1/topics/:topic": { params: { topic }, body: topicBody },
    "GET /v1/topics/:topic": { params: { topic } },
    "DELETE /v1/topics/:topic": {
      params: { topic: names(["fz-orders"], "fz-absent") },
      query: fc.constantFrom("", "force=false", "force=true"),
    },
    "POST /v1/topics/:topic/events": { params: { topic }, publish: true, background: true },
    "GET /v1/topics/:topic/events": {
      params: { topic },
      query: fc.oneof(
        fc.constant(""),
        fc
          .tuple(smallInt(0, 40), smallInt(1, 1_000))
          .map(([from, limit]) => `from=${from}&limit=${limit}`),
        fc.constant("since=2026-01-01T00:00:00Z&limit=5"),
      ),
    },
    "GET /v1/topics/:topic/subjects/:subject/events": {
      params: { topic, subject: fc.constantFrom("fz-order-1", "fz-unknown", "a b/ü%") },
      query: fc.oneof(
        fc.constant(""),
        fc
          .tuple(smallInt(0, 40), smallInt(1, 1_000))
          .map(([from, limit]) => `fromVersion=${from}&limit=${limit}`),
      ),
    },
    "GET /v1/topics/:topic/scheduled": {
      params: { topic },
      query: fc.oneof(
        fc.constant(""),
        smallInt(1, 1_000).map((limit) => `limit=${limit}`),
        fc.constantFrom(
          "after=MTIzLjQ",
          "after=bm90LWEtdG9rZW4",
          "limit=2&after=MTc2NzIyNTYwMDAwMC4x",
        ),
      ),
    },
    "DELETE /v1/topics/:topic/scheduled/:id": {
      params: { topic, id: fc.constantFrom("fz-scheduled", "fz-absent", "a b/ü%") },
      query: fc.constantFrom("", "source=%2Ffuzz", "source=fz"),
    },
    "GET /v1/flows/:correlationid": {
      params: { correlationid: fc.constantFrom("fz-flow", "fz-unknown", "a b/ü%") },
      query: fc.oneof(
        fc.constant(""),
        smallInt(1, 10_000).map((limit) => `limit=${limit}`),
      ),
    },
    "GET /v1/subscriptions": {},
    "PUT /v1/subscriptions/:name": {
      params: { name: sub },
      body: subscriptionBody,
      background: true,
    },
    "GET /v1/subscriptions/:name": { params: { name: sub } },
    "DELETE /v1/subscriptions/:name": {
      params: { name: names([f.pullSubscription], "fz-absent") },
    },
    "POST /v1/subscriptions/:name/pull": {
      params: { name: pullSub },
      body: fc.record(
        { max: smallInt(1, 3), waitMs: fc.constant(0) },
        { requiredKeys: [] },
      ) as fc.Arbitrary<JsonLike>,
    },
    "POST /v1/subscriptions/:name/ack": { params: { name: pullSub }, body: settle() },
    "POST /v1/subscriptions/:name/nack": {
      params: { name: pullSub },
      body: settle({ delayMs: smallInt(3_600_000, 7_200_000) }),
    },
    "POST /v1/subscriptions/:name/extend": {
      params: { name: pullSub },
      body: settle({ leaseMs: smallInt(3_600_000, 7_200_000) }),
    },
    "POST /v1/subscriptions/:name/reject": {
      params: { name: pullSub },
      body: settle({ reason: fc.constantFrom("bad", "fuzz") }),
    },
    "POST /v1/subscriptions/:name/seek": {
      params: { name: pullSub },
      body: fc.record({
        to: fc.constantFrom<JsonLike>(
          "earliest",
          "latest",
          { offset: 3 },
          { time: "2026-12-01T00:00:00Z" },
        ),
      }) as fc.Arbitrary<JsonLike>,
    },
    "POST /v1/subscriptions/:name/redrive": {
      params: { name: pullSub },
      background: true,
      body: fc.record(
        {
          ids: fc.subarray([...f.eventIds], { minLength: 1, maxLength: 3 }),
          filter: filter(),
          limit: smallInt(1, 100),
          dryRun: fc.boolean(),
        },
        { requiredKeys: [] },
      ) as fc.Arbitrary<JsonLike>,
    },
    "GET /v1/subscriptions/:name/redrives/:id": {
      params: {
        name: pullSub,
        id: fc.oneof(fc.constant(f.redriveId), fc.uuid()),
      },
    },
    "POST /v1/subscriptions/:name/pause": {
      params: { name: pushSub },
      body: fc.record(
        { reason: fc.constantFrom("fuzz", "maintenance") },
        { requiredKeys: [] },
      ) as fc.Arbitrary<JsonLike>,
    },
    "POST /v1/subscriptions/:name/resume": { params: { name: pushSub }, background: true },
    "GET /v1/subscriptions/:name/attempts": {
      params: { name: pushSub },
      query: fc.constantFrom("", "limit=10", "eventId=fz-ev-1&limit=1"),
    },
    "GET /v1/subscriptions/:name/stream": { params: { name: sub }, websocket: true },
    "POST /v1/keys": {
      body: fc.record(
        {
          name: fc.constantFrom("fuzz", "ci"),
          scopes: fc.subarray(["admin", "read:fz-*", "publish:*", "consume:fz-pull", "metrics"], {
            minLength: 1,
          }),
        },
        { requiredKeys: [] },
      ) as fc.Arbitrary<JsonLike>,
    },
    "GET /v1/keys": {},
    "POST /ui/session": {
      body: fc.record(
        { key: fc.constantFrom("sy_0123456789abcdef_x", "nope") },
        {
          requiredKeys: [],
        },
      ) as fc.Arbitrary<JsonLike>,
    },
    "GET /ui/session": {},
    "DELETE /ui/session": {},
    "GET /ui/*": {
      params: {
        "*": fc.constantFrom(
          "",
          "index.html",
          "topics/orders",
          "assets/missing.js",
          "../package.json",
          "%2e%2e/x",
        ),
      },
    },
    "GET /v1/keys/self": {},
    "DELETE /v1/keys/:id": {
      params: { id: fc.constantFrom("0123456789abcdef", "zzzzzzzzzzzzzzzz") },
    },
    "GET /v1/schemas": {},
    "PUT /v1/schemas/:type": { params: { type: schemaType }, body: schemaBody },
    "GET /v1/schemas/:type": { params: { type: schemaType } },
    "GET /v1/schemas/:type/versions/:n": {
      params: { type: schemaType, n: fc.constantFrom("1", "2", "99") },
    },
    "POST /v1/schemas/:type/check": { params: { type: schemaType }, body: schemaBody },
    "PUT /v1/schemas/:type/config": {
      params: { type: schemaType },
      body: fc.record({
        compatibility: fc.constantFrom("BACKWARD", "FULL", "NONE", "FORWARD_TRANSITIVE"),
      }) as fc.Arbitrary<JsonLike>,
    },
    "POST /v1/schemas/:type/infer": {
      params: { type: fc.constantFrom("fuzz.seeded", "fuzz.published", f.schemaType) },
      body: fc.record(
        { topic: fc.constantFrom(...f.topics), limit: smallInt(1, 10_000) },
        { requiredKeys: ["topic"] },
      ) as fc.Arbitrary<JsonLike>,
    },
    "GET /v1/asyncapi.json": {},
  };
}

interface Valid {
  readonly method: string;
  readonly segments: readonly (string | Buffer)[];
  readonly query: string;
  readonly headers: HeaderList;
  readonly body: JsonLike | undefined;
  /** Publish in binary mode: the body is bytes, attributes are headers. */
  readonly rawBody?: Buffer;
}

function segmentsOf(url: string, params: Record<string, string>): (string | Buffer)[] {
  return url
    .split("/")
    .slice(1)
    .map((s) =>
      // A wildcard's value spans segments: sent as is, slashes and escapes included.
      s === "*"
        ? (params["*"] ?? "")
        : s.startsWith(":")
          ? encodeURIComponent(params[s.slice(1)] ?? "")
          : s,
    );
}

const UPGRADE: HeaderList = [
  ["connection", "Upgrade"],
  ["upgrade", "websocket"],
  ["sec-websocket-version", "13"],
  ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
];

function publishValid(): fc.Arbitrary<Pick<Valid, "headers" | "body" | "rawBody">> {
  return fc.oneof(
    cloudEvent().map((e) => ({
      headers: [["content-type", "application/cloudevents+json"]] as HeaderList,
      body: e,
    })),
    fc.array(cloudEvent(), { minLength: 1, maxLength: 3 }).map((events) => ({
      headers: [["content-type", "application/cloudevents-batch+json"]] as HeaderList,
      body: events,
    })),
    fc
      .record({
        id: fc.uuid(),
        type: fc.constantFrom("application/json", "text/plain", "application/octet-stream"),
        data: fc.constantFrom('{"n":1}', "hello", ""),
      })
      .map(({ id, type, data }) => ({
        headers: [
          ["content-type", type],
          ["ce-specversion", "1.0"],
          ["ce-id", id],
          ["ce-source", "/fuzz"],
          ["ce-type", "fuzz.binary"],
          ["ce-partitionkey", "k0"],
        ] as HeaderList,
        body: undefined,
        rawBody: Buffer.from(data),
      })),
  );
}

function validRequest(key: string, spec: RouteSpec): fc.Arbitrary<Valid> {
  const [method = "GET", url = "/"] = key.split(" ");
  const params = fc.record(spec.params ?? {}) as fc.Arbitrary<Record<string, string>>;
  const query = spec.query ?? fc.constant("");
  const payload: fc.Arbitrary<Pick<Valid, "headers" | "body" | "rawBody">> = spec.publish
    ? publishValid()
    : spec.body
      ? spec.body.map((body) => ({
          headers: [["content-type", "application/json"]] as HeaderList,
          body,
        }))
      : spec.websocket
        ? fc.constantFrom({ headers: UPGRADE, body: undefined }, { headers: [], body: undefined })
        : fc.constant({ headers: [], body: undefined });
  return fc.tuple(params, query, payload).map(([p, q, load]) => ({
    method,
    segments: segmentsOf(url, p),
    query: q,
    ...load,
  }));
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "get"];

function encode(
  valid: Valid,
  label: string,
  route: string,
  overrides: Partial<RawRequest> = {},
): FuzzCase {
  const path = Buffer.concat(valid.segments.flatMap((s) => [Buffer.from("/"), Buffer.from(s)]));
  const target = Buffer.concat([path, Buffer.from(valid.query === "" ? "" : `?${valid.query}`)]);
  const body =
    valid.rawBody ?? Buffer.from(valid.body === undefined ? "" : toText(valid.body), "utf8");
  const request = { method: valid.method, target, headers: valid.headers, body, ...overrides };
  return {
    route,
    background: false,
    label,
    request,
    // fast-check prints this for a counterexample instead of every byte.
    [fc.toStringMethod]: () => describeCase(route, label, request),
  } as FuzzCase;
}

/** One line naming a case: method, target (cut), route and mutation. */
export function describeCase(route: string, label: string, request: RawRequest): string {
  const target = request.target.toString("latin1");
  const cut = target.length > 200 ? `${target.slice(0, 200)}…(${target.length} bytes)` : target;
  return `${request.method} ${JSON.stringify(cut)} [${route}; ${label}; body ${request.body.length} bytes]`;
}

function withBody(c: FuzzCase, body: Buffer): FuzzCase {
  const request = { ...c.request, body };
  return {
    ...c,
    request,
    [fc.toStringMethod]: () => describeCase(c.route, c.label, request),
  } as FuzzCase;
}

function toText(body: JsonLike): string {
  // Valid bodies hold no RawJson; the mutation path serialises hostile ones itself.
  return JSON.stringify(body);
}

type Mutation = (valid: Valid) => fc.Arbitrary<FuzzCase>;

function mutations(route: string, spec: RouteSpec, maxBodyBytes: number): fc.Arbitrary<FuzzCase> {
  const keep: Mutation = (v) => fc.constant(encode(v, "valid", route));
  const param: Mutation = (v) =>
    fc
      .tuple(fc.nat({ max: Math.max(0, v.segments.length - 1) }), hostileSegment)
      .map(([i, seg]) => {
        const segments = [...v.segments];
        // Aim at a parameter when the route has one: its segments are the ones that are not literal.
        const literal = route.split(" ")[1]?.split("/").slice(1) ?? [];
        const paramAt = literal.map((s, j) => (s.startsWith(":") ? j : -1)).filter((j) => j >= 0);
        const at = paramAt.length > 0 ? (paramAt[i % paramAt.length] ?? i) : i;
        segments[at] = seg;
        return encode(
          { ...v, segments },
          `segment ${at} = ${JSON.stringify(seg.toString("latin1").slice(0, 60))}`,
          route,
        );
      });
  const query: Mutation = (v) =>
    hostileQuery.map((q) =>
      encode({ ...v, query: q }, `query ${JSON.stringify(q.slice(0, 80))}`, route),
    );
  const method: Mutation = (v) =>
    fc.constantFrom(...METHODS).map((m) => encode({ ...v, method: m }, `method ${m}`, route));
  const headers: Mutation = (v) =>
    hostileHeaders.map((h) => {
      const own = h.replacesContentType
        ? v.headers.filter(([n]) => n !== "content-type")
        : v.headers;
      const c = encode({ ...v, headers: [...own, ...h.headers] }, h.label, route, {
        ...(h.replacesFraming ? { noContentLength: true } : {}),
      });
      return h.reframe === undefined ? c : withBody(c, h.reframe(c.request.body));
    });
  const body: Mutation = (v) =>
    mutatedBody(v.body ?? {}, maxBodyBytes).map((m) =>
      encode(v, `body: ${m.label}`, route, {
        body: typeof m.text === "string" ? Buffer.from(m.text, "utf8") : m.text,
        headers: v.headers.some(([n]) => n === "content-type")
          ? v.headers
          : [...v.headers, ["content-type", "application/json"]],
      }),
    );
  const ce: Mutation = (v) =>
    hostileCeHeader.map((h) => {
      const replaced = new Set(h.headers.map(([n]) => n));
      const base = v.headers.some(([n]) => n.startsWith("ce-"))
        ? v.headers
        : [
            ["content-type", "application/json"] as const,
            ["ce-specversion", "1.0"] as const,
            ["ce-id", "fz-binary"] as const,
            ["ce-source", "/fuzz"] as const,
            ["ce-type", "fuzz.binary"] as const,
          ];
      return encode(
        {
          ...v,
          headers: [...base.filter(([n]) => !replaced.has(n)), ...h.headers],
          body: undefined,
        },
        h.label,
        route,
      );
    });
  const chosen: [number, Mutation][] = [
    [2, keep],
    [spec.params ? 3 : 1, param],
    [1, query],
    [1, method],
    [2, headers],
  ];
  if (spec.body || spec.publish) chosen.push([5, body]);
  if (spec.publish) chosen.push([4, ce]);
  const valid = validRequest(route, spec);
  return fc.oneof(
    ...chosen.map(([weight, mutate]) => ({ weight, arbitrary: valid.chain((v) => mutate(v)) })),
  );
}

/** One mostly valid request for `route`, with at most one mutation. */
export function fuzzRequest(
  route: string,
  spec: RouteSpec,
  maxBodyBytes: number,
): fc.Arbitrary<FuzzCase> {
  const background = spec.background === true;
  return mutations(route, spec, maxBodyBytes).map((c) => ({ ...c, background }));
}

/** Any route of the table. */
export function anyRequest(
  specs: Readonly<Record<string, RouteSpec>>,
  maxBodyBytes: number,
): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    ...Object.entries(specs).map(([route, spec]) => fuzzRequest(route, spec, maxBodyBytes)),
  );
}
