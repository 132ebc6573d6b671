/**
 * The shop's event contracts while it runs (no browser): the fleet starts with OrderPlaced
 * held at version 1, every topic enforcing its schemas. A coupon order is refused until
 * version 2 (optional `couponCode`, BACKWARD-compatible in a closed content model) is
 * registered from `schemas/OrderPlaced/2.json` while every service keeps running; then it is
 * published and every consumer, downstream ones included, processes it. A required field is
 * refused as incompatible, and malformed data or an unregistered type is refused on publish.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type SwitchyardClient } from "switchyard/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { readSchemas, registerSchemas, SCHEMAS_DIR } from "./contracts.ts";
import { Fleet, SERVICES } from "./fleet.ts";
import { TOPICS } from "./keys.ts";

const SLOW = { timeoutMs: 20_000, intervalMs: 100 };
const TYPES = [
  "NotificationRequested",
  "OrderCancelled",
  "OrderPaid",
  "OrderPlaced",
  "OrderShipped",
  "OutOfStock",
  "PaymentReminderDue",
  "SmsSent",
  "StockReserved",
];

let dataDir: string;
let database: TestDatabase;
let fleet: Fleet;
let admin: SwitchyardClient;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(
  url: string,
  method: string,
  body?: unknown,
  key?: string,
  contentType = "application/json",
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": contentType };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const router = (method: string, path: string, body?: unknown) =>
  call(`${fleet.url("router")}${path}`, method, body, fleet.adminKey);

/** Publishes one structured CloudEvent to `orders` with the admin key, past checkout. */
const publishOrder = (type: string, data: unknown) =>
  call(
    `${fleet.url("router")}/v1/topics/orders/events`,
    "POST",
    { specversion: "1.0", id: `raw-${type}`, source: "/test", type, data },
    fleet.adminKey,
    "application/cloudevents+json",
  );

const order = (customerId: string, couponCode?: string) =>
  call(`${fleet.url("checkout")}/api/orders`, "POST", {
    customerId,
    lines: [{ sku: "mug", qty: 2 }],
    ...(couponCode === undefined ? {} : { couponCode }),
  });

async function stateOf<T>(service: (typeof SERVICES)[number]): Promise<T> {
  return (await (await fetch(`${fleet.url(service)}/state`)).json()) as T;
}

/** The stored `orders` events, oldest first. */
async function ordersLog(): Promise<Record<string, unknown>[]> {
  const { body } = await router("GET", "/v1/topics/orders/events?from=1");
  return body.events as Record<string, unknown>[];
}

/** Pays the order (fulfillment ships paid orders only), then waits until every service
 * downstream of it has handled it, once. */
async function processedEverywhere(orderId: string): Promise<void> {
  const paid = await call(`${fleet.url("checkout")}/api/orders/${orderId}/pay`, "POST");
  expect(paid).toMatchObject({ status: 200, body: { status: "paid", reminder: "cancelled" } });
  await eventually(async () => {
    const email = await stateOf<{ sent: { orderId: string; subject: string }[] }>("email");
    const inventory = await stateOf<{ outcomes: { orderId: string; type: string }[] }>("inventory");
    const history = await stateOf<{ orders: { orderId: string }[] }>("history");
    const slack = await stateOf<{ posts: { orderId: string }[] }>("slack");
    const profiles = await stateOf<{ profiles: { orders: string[] }[] }>("profiles");
    const fulfillment = await stateOf<{ shipments: { orderId: string }[] }>("fulfillment");
    const sms = await stateOf<{ sent: { correlationid: string }[] }>("sms");
    const usage = await stateOf<{ byCorrelation: Record<string, string> }>("usage");
    expect({
      email: email.sent.filter((m) => m.orderId === orderId).length,
      inventory: inventory.outcomes.filter((o) => o.orderId === orderId).map((o) => o.type),
      history: history.orders.filter((o) => o.orderId === orderId).length,
      slack: slack.posts.filter((p) => p.orderId === orderId).length,
      profiles: profiles.profiles.flatMap((p) => p.orders).filter((id) => id === orderId).length,
      fulfillment: fulfillment.shipments.filter((s) => s.orderId === orderId).length,
      sms: sms.sent.filter((s) => s.correlationid === orderId).length,
      usage: orderId in usage.byCorrelation,
    }).toEqual({
      email: 1,
      inventory: ["StockReserved"],
      history: 1,
      slack: 1,
      profiles: 1,
      fulfillment: 1,
      sms: 1,
      usage: true,
    });
  }, SLOW);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "switchyard-shop-contracts-"));
  database = await createTestDatabase();
  fleet = new Fleet({
    dataDir,
    databaseUrl: database.url,
    // Reminders far off: every order here is paid long before.
    env: { SMS_SEED: "7", SMS_FAILURE_RATE: "0", REMINDER_AFTER_MS: "600000" },
    setUp: { schemaVersions: { OrderPlaced: 1 } },
  });
  await fleet.init();
  await fleet.start("router");
  for (const name of SERVICES) await fleet.start(name);
  admin = createClient({ url: fleet.url("router"), apiKey: fleet.adminKey });
}, 90_000);

afterAll(async () => {
  await admin?.close();
  await fleet?.stopAll();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("the shop's event contracts", () => {
  let plain: string;

  it("are registered before the services start, and every topic enforces them", async () => {
    const { body } = await router("GET", "/v1/schemas");
    expect(body.schemas).toEqual(
      TYPES.map((type) => ({ type, latest: 1, compatibility: "BACKWARD" })),
    );
    for (const topic of TOPICS) {
      expect((await router("GET", `/v1/topics/${topic}`)).body.schemas).toEqual({
        mode: "enforce",
        allowUnregisteredTypes: false,
      });
    }
    const placed = await order("alice");
    expect(placed.status).toBe(201);
    plain = String(placed.body.orderId);
    await processedEverywhere(plain);
  });

  it("refuse a coupon order while OrderPlaced is at version 1: checkout checks before its outbox", async () => {
    const before = (await ordersLog()).length;
    const refused = await order("bob", "SPRING10");
    // Refused by checkout against the registered schema, before the transaction commits:
    // written to the outbox, the router would refuse it to the relay and stop it there.
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      code: "schema_violation",
      errors: [{ pointer: "/data/couponCode" }],
    });
    expect(await ordersLog()).toHaveLength(before);
  });

  it("take version 2 (an optional field) while the fleet runs, and every consumer processes its orders", async () => {
    // What the fleet's setup does, now without holding OrderPlaced back: each type's newest
    // registered version is sent again (and answered as is), OrderPlaced 2 is new.
    const latest = (created: boolean) =>
      TYPES.map((type) => ({ type, version: type === "OrderPlaced" ? 2 : 1, created }));
    const withV1 = { type: "OrderPlaced", version: 1, created: false };
    expect(await registerSchemas(admin, readSchemas())).toEqual(
      latest(true).flatMap((r) =>
        r.type === "OrderPlaced" ? [withV1, r] : [{ ...r, created: false }],
      ),
    );
    // Again, as a restart on a kept data directory does: the same versions, nothing new.
    expect(await registerSchemas(admin, readSchemas())).toEqual(latest(false));
    expect((await router("GET", "/v1/schemas/OrderPlaced")).body).toMatchObject({
      versions: [{ version: 1 }, { version: 2 }],
    });

    const placed = await order("bob", "SPRING10");
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ couponCode: "SPRING10", total: 21.6 });
    const orderId = String(placed.body.orderId);
    await processedEverywhere(orderId);
    const { sent } = await stateOf<{ sent: { orderId: string; subject: string }[] }>("email");
    expect(sent.find((m) => m.orderId === orderId)?.subject).toContain("with coupon SPRING10");
    const history = await stateOf<{ orders: { orderId: string; couponCode?: string }[] }>(
      "history",
    );
    expect(history.orders.find((o) => o.orderId === orderId)?.couponCode).toBe("SPRING10");
    // An order without a coupon is still valid, now under version 2.
    const later = await order("carol");
    expect(later.status).toBe(201);
    await processedEverywhere(String(later.body.orderId));

    // Each stored event names the version it was validated against.
    const log = await ordersLog();
    const schemaOf = (id: string) => String(log.find((e) => e.id === id)?.dataschema);
    expect(schemaOf(plain)).toBe(`${fleet.url("router")}/v1/schemas/OrderPlaced/versions/1`);
    expect(schemaOf(orderId)).toBe(`${fleet.url("router")}/v1/schemas/OrderPlaced/versions/2`);
  });

  it("refuse a new required field: events valid under version 2 lack it (409, with the pointer)", async () => {
    const v2 = JSON.parse(readFileSync(join(SCHEMAS_DIR, "OrderPlaced", "2.json"), "utf8")) as {
      properties: Record<string, unknown>;
      required: string[];
    };
    const v3 = {
      ...v2,
      properties: { ...v2.properties, currency: { type: "string", enum: ["USD", "EUR"] } },
      required: [...v2.required, "currency"],
    };
    const refused = await router("PUT", "/v1/schemas/OrderPlaced", { schema: v3 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: "schema_incompatible",
      errors: [
        {
          pointer: `/required/${v2.required.length}`,
          message: expect.stringContaining("new required property 'currency'"),
        },
      ],
    });
    expect((await router("GET", "/v1/schemas/OrderPlaced")).body.versions).toHaveLength(2);
  });

  it("refuse a malformed OrderPlaced, and a type with no schema, published straight to the router (422)", async () => {
    const before = (await ordersLog()).length;
    const data = {
      orderId: "o-0000beef",
      customerId: "mallory",
      email: "mallory@example.com",
      lines: [{ sku: "mug", name: "Switchyard mug", qty: 1, unitPrice: 12 }],
      total: "12",
      placedAt: new Date().toISOString(),
    };
    const malformed = await publishOrder("OrderPlaced", data);
    expect(malformed.status).toBe(422);
    expect(malformed.body).toMatchObject({
      code: "schema_violation",
      errors: [{ pointer: "/data/total" }],
    });
    const unknown = await publishOrder("OrderRefunded", { orderId: "o-0000beef" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe("schema_unknown_type");
    expect(await ordersLog()).toHaveLength(before);
  });
});
