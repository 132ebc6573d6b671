import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import type { SubscriptionView } from "../broker/broker.js";
import { type AsyncApiInput, asyncApiDocument, PAYLOAD_SCHEMA_FORMAT } from "./asyncapi.js";

const SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: { money: { $anchor: "money", type: "number" }, line: { type: "object" } },
  properties: {
    total: { $ref: "#money" },
    lines: { type: "array", prefixItems: [{ $ref: "#/$defs/line" }] },
    self: { $ref: "#" },
  },
};

function input(overrides: Partial<AsyncApiInput> = {}): AsyncApiInput {
  const push = { url: "https://user:pw@hooks.example.com/in?token=hush#x", mode: "binary" };
  return {
    version: "1.2.3",
    url: new URL("https://events.example.com/"),
    auth: false,
    topics: [{ name: "orders", routerOwned: false, types: ["order.placed"] }],
    subscriptions: [
      { name: "hook", topic: "orders", filter: null, push } as unknown as SubscriptionView,
      { name: "elsewhere", topic: "hidden", filter: null, push: null } as SubscriptionView,
    ],
    schemas: new Map([["order.placed", { version: 4, schema: SCHEMA }]]),
    ...overrides,
  };
}

async function errorsOf(doc: unknown): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => `${d.path.join("/")}: ${d.message}`);
}

describe("the AsyncAPI document", () => {
  it("rewrites a schema's local references to resolve from the document's root", async () => {
    const doc = asyncApiDocument(input()) as {
      components: {
        messages: Record<string, { payload: { schemaFormat: string; schema: unknown } }>;
      };
    };
    expect(await errorsOf(doc)).toEqual([]);
    const payload = doc.components.messages["order.placed"]?.payload;
    const base = "#/components/messages/order.placed/payload/schema";
    expect(payload?.schemaFormat).toBe(PAYLOAD_SCHEMA_FORMAT);
    expect(payload?.schema).toMatchObject({
      properties: {
        total: { $ref: `${base}/$defs/money` },
        lines: { prefixItems: [{ $ref: `${base}/$defs/line` }] },
        self: { $ref: base },
      },
    });
    // The registered schema itself is left as it was.
    expect(SCHEMA.properties.total.$ref).toBe("#money");
  });

  it("names a push endpoint without credentials or query; skips subscriptions of hidden topics", () => {
    const doc = asyncApiDocument(input()) as { operations: Record<string, unknown> };
    expect(Object.keys(doc.operations)).toEqual(["send.orders", "receive.hook"]);
    const text = JSON.stringify(doc);
    expect(text).toContain("https://hooks.example.com/in");
    for (const secret of ["hush", "user", "pw@"]) expect(text).not.toContain(secret);
  });

  it("has a security scheme only with auth, and the server's protocol from its URL", async () => {
    const open = asyncApiDocument(input()) as { servers: { router: Record<string, unknown> } };
    expect(open.servers.router).toMatchObject({ host: "events.example.com", protocol: "https" });
    expect(open.servers.router.security).toBeUndefined();
    const guarded = asyncApiDocument(
      input({ auth: true, url: new URL("http://10.0.0.1:8420/sy/") }),
    );
    expect(await errorsOf(guarded)).toEqual([]);
    expect(guarded).toMatchObject({
      servers: { router: { host: "10.0.0.1:8420", pathname: "/sy", protocol: "http" } },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    });
  });
});
