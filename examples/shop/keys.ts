/**
 * Least privilege for the shop: what each service does on the router, and the scopes that
 * follows from it. Each service creates its own subscriptions at start, so its key needs
 * `manage:` on them and on their dead-letter topics (`{topic}.{name}.dlq`) and `read:` on the
 * topics they read; a pull subscription also needs `consume:`; publishing needs `publish:`.
 * The topics themselves, and the event schemas they enforce, are set up by the fleet with
 * the admin key (`setUpRouter`): no service holds a `schemas:` scope.
 */
import { createClient, type TopicIndex } from "switchyard/client";
import { readSchemas, registerSchemas } from "./contracts.ts";
import type { SERVICES } from "./fleet.ts";

type Service = (typeof SERVICES)[number];

interface Uses {
  /** Subscriptions it creates: name, topic, and whether it pulls (else the router pushes). */
  readonly subscriptions?: readonly { name: string; topic: string; pull?: true }[];
  readonly publishes?: readonly string[];
  /** Topics whose scheduled events it cancels (`manage:`: publishing schedules, it does not take back). */
  readonly cancelsScheduled?: readonly string[];
  /** Topics the outbox relay publishes to: `publish:`, and `read:` for each topic's dedupe window. */
  readonly relays?: readonly string[];
}

export const TOPICS = ["orders", "inventory", "notifications", "sms", "reminders"] as const;

/**
 * Every topic has the `correlationid` index (the dashboard's flow view); `orders` also has
 * `subject`: each order's events are its stream there (subject = order id, `subjectversion`
 * = the version checkout's event store gave it), readable with `GET …/subjects/<id>/events`.
 */
export const INDEXES: Readonly<Record<(typeof TOPICS)[number], readonly TopicIndex[]>> = {
  orders: ["correlationid", "subject"],
  inventory: ["correlationid"],
  notifications: ["correlationid"],
  sms: ["correlationid"],
  reminders: ["correlationid"],
};

export const USES: Readonly<Record<Service, Uses>> = {
  // Checkout writes its events to its outbox, never to the router: the relay publishes them.
  checkout: {
    subscriptions: [{ name: "checkout", topic: "inventory", pull: true }],
    cancelsScheduled: ["reminders"],
  },
  relay: { relays: ["orders", "reminders"] },
  email: {
    subscriptions: [
      { name: "email-receipts", topic: "orders" },
      { name: "email-out-of-stock", topic: "inventory" },
      { name: "email-reminders", topic: "reminders" },
    ],
  },
  inventory: {
    subscriptions: [{ name: "inventory", topic: "orders", pull: true }],
    publishes: ["inventory"],
  },
  fulfillment: {
    subscriptions: [
      { name: "fulfillment", topic: "inventory" },
      { name: "fulfillment-paid", topic: "orders" },
    ],
  },
  // A projection: its rebuilds replay the topic through temporary pull subscriptions
  // `projection-history-rebuild-<n>`, created and deleted by the history service itself.
  history: {
    subscriptions: [
      { name: "history", topic: "orders", pull: true },
      { name: "projection-history-rebuild-*", topic: "orders", pull: true },
    ],
  },
  slack: { subscriptions: [{ name: "slack", topic: "orders" }] },
  profiles: { subscriptions: [{ name: "profiles", topic: "orders", pull: true }] },
  notifications: { publishes: ["notifications"] },
  sms: {
    subscriptions: [{ name: "sms", topic: "notifications", pull: true }],
    publishes: ["sms"],
  },
  usage: { subscriptions: [{ name: "usage", topic: "sms" }] },
};

export function scopesOf(service: Service): string[] {
  const { subscriptions = [], publishes = [], cancelsScheduled = [], relays = [] } = USES[service];
  const scopes = subscriptions.flatMap(({ name, topic, pull }) => [
    `manage:${name}`,
    `read:${topic}`,
    `manage:${topic}.${name}.dlq`,
    ...(pull ? [`consume:${name}`] : []),
  ]);
  scopes.push(...publishes.map((topic) => `publish:${topic}`));
  scopes.push(...cancelsScheduled.map((topic) => `manage:${topic}`));
  scopes.push(...relays.flatMap((topic) => [`publish:${topic}`, `read:${topic}`]));
  return [...new Set(scopes)];
}

export interface SetUpOptions {
  /** The newest version of a type to register (default: every file in `schemas/`). */
  readonly schemaVersions?: Readonly<Record<string, number>>;
}

/**
 * With the admin key: registers the event schemas (contracts.ts), creates the shop's topics
 * enforcing them, with their indexes (`INDEXES`) — an event whose `data` breaks its type's latest schema, or whose type has
 * no schema, is refused with 422 — and one key per service, revoking the keys an
 * earlier run left (the same service names, and earlier runs' admin keys from
 * `SWITCHYARD_ADMIN_KEY`), so a kept data directory holds only this run's keys.
 */
export async function setUpRouter(
  routerUrl: string,
  adminKey: string,
  services: readonly Service[],
  options: SetUpOptions = {},
): Promise<Map<Service, string>> {
  const admin = createClient({ url: routerUrl, apiKey: adminKey, source: "/shop/fleet" });
  try {
    await registerSchemas(admin, readSchemas(), options.schemaVersions);
    for (const topic of TOPICS) {
      // The correlationid index makes an order followable across the topics in the
      // dashboard's flow view (GET /v1/flows/{order id}); a PUT without it would drop it.
      await admin.admin.topics.put(topic, {
        schemas: { mode: "enforce", allowUnregisteredTypes: false },
        indexes: [...INDEXES[topic]],
      });
    }
    const names = new Set(services.map(keyName));
    const self = await admin.admin.keys.self();
    for (const old of await admin.admin.keys.list()) {
      const earlierAdmin = old.name === self.name && old.id !== self.id;
      if (names.has(old.name) || earlierAdmin) await admin.admin.keys.revoke(old.id);
    }
    const keys = new Map<Service, string>();
    for (const service of services) {
      const created = await admin.admin.keys.create({
        name: keyName(service),
        scopes: scopesOf(service),
      });
      keys.set(service, created.key);
    }
    return keys;
  } finally {
    await admin.close();
  }
}

const keyName = (service: Service): string => `shop-${service}`;

/** For logs: the key's id, never its secret (`sy_<id>_…`). */
export function redact(key: string): string {
  return `${key.split("_").slice(0, 2).join("_")}_…`;
}
