/**
 * The shop and the notification service, end to end, through the storefront in a real
 * Chromium: the router and every service run as child processes on free ports, exactly as
 * `npm run demo` runs them. Every downstream effect must show up on the page exactly once.
 * The router runs with auth and each service with its own least-privilege key (keys.ts): the
 * last tests prove those keys are refused outside their scopes and never show in any output.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { createClient } from "switchyard/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.ts";
import { Fleet, SERVICES } from "./fleet.ts";
import { scopesOf } from "./keys.ts";
import { evolve, INITIAL_ORDER, type OrderEvent, type OrderState } from "./lib/order.ts";

const CHROMIUM = "/usr/bin/chromium";
const EFFECTS = [
  "receipt",
  "reminder",
  "stock",
  "notice",
  "shipment",
  "history",
  "slack",
  "sms",
  "profile",
];
/** An unpaid order's reminder fires this long after placement (orders paid sooner get none). */
const REMINDER_AFTER_MS = 6_000;
const SLOW = { timeoutMs: 20_000, intervalMs: 100 };

let dataDir: string;
let database: TestDatabase;
let fleet: Fleet;
let browser: BrowserContext;
let page: Page;
/** Every line any process of the fleet printed. */
const output: string[] = [];

/** Requests as the operator: with the router's admin key. */
function asAdmin(init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers, authorization: `Bearer ${fleet.adminKey}` } };
}

/** Places an order through the form and answers its id (the correlation id). */
async function place(customer: string, sku: string, qty = 1): Promise<string> {
  const before = await page.locator("#last-order").getAttribute("data-order-id");
  await page.selectOption("#customer", customer);
  await page.selectOption("#sku", sku);
  await page.fill("#qty", String(qty));
  await page.click("#place");
  return eventually(async () => {
    const id = await page.locator("#last-order").getAttribute("data-order-id");
    if (!id || id === before) throw new Error("order not placed yet");
    return id;
  });
}

/** Pays the order with its row's Pay button, as the customer would. */
async function pay(orderId: string): Promise<void> {
  await page.click(`button[data-pay="${orderId}"]`, { timeout: SLOW.timeoutMs });
  await eventually(async () => {
    expect(await page.locator("#last-order").getAttribute("data-paid")).toBe(orderId);
  }, SLOW);
}

/** The order's status as the page shows it (the history read model's). */
async function statusOf(orderId: string): Promise<string | null> {
  return attribute(`tr[data-order="${orderId}"] [data-status]`, "data-status");
}

async function expectStatus(orderId: string, status: string): Promise<void> {
  await eventually(async () => expect(await statusOf(orderId)).toBe(status), SLOW);
}

/** Places an order and pays it at once (before its reminder is due). */
async function placeAndPay(customer: string, sku: string, qty = 1): Promise<string> {
  const id = await place(customer, sku, qty);
  await pay(id);
  return id;
}

/** How many times each effect of the order shows on the page (-1: no such row). */
async function effectsOf(orderId: string): Promise<Record<string, number>> {
  const cells = await page
    .locator(`tr[data-order="${orderId}"] td[data-effect]`)
    .evaluateAll((tds) =>
      tds.map((td) => [td.getAttribute("data-effect"), td.getAttribute("data-count")]),
    );
  const found = new Map(cells.map(([name, count]) => [String(name), Number(count)]));
  return Object.fromEntries(EFFECTS.map((n) => [n, found.get(n) ?? -1]));
}

function expected(partial: Record<string, number>): Record<string, number> {
  return Object.fromEntries(EFFECTS.map((n) => [n, partial[n] ?? 0]));
}

async function expectEffects(orderId: string, partial: Record<string, number>): Promise<void> {
  await eventually(async () => expect(await effectsOf(orderId)).toEqual(expected(partial)), SLOW);
}

async function attribute(selector: string, name: string): Promise<string | null> {
  const locator = page.locator(selector);
  return (await locator.count()) === 0 ? null : locator.getAttribute(name);
}

async function routerGet(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${fleet.url("router")}${path}`, asAdmin());
  return (await res.json()) as Record<string, unknown>;
}

/** Waits until the page has fetched the services' state twice more (it polls every 0.5 s). */
async function freshRender(): Promise<void> {
  const renders = async () => Number(await page.locator("body").getAttribute("data-renders"));
  const now = await renders();
  await eventually(async () => expect(await renders()).toBeGreaterThanOrEqual(now + 2), SLOW);
}

/** A subscription has caught up: nothing left to deliver, nothing in flight. */
async function drained(subscription: string): Promise<void> {
  await eventually(async () => {
    const { stats } = (await routerGet(`/v1/subscriptions/${subscription}`)) as {
      stats: { lag: number; inFlight: number };
    };
    expect(stats).toMatchObject({ lag: 0, inFlight: 0 });
  }, SLOW);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "switchyard-shop-"));
  database = await createTestDatabase();
  fleet = new Fleet({
    dataDir,
    databaseUrl: database.url,
    // The router at its most verbose: nothing it logs may hold a key.
    env: {
      SMS_SEED: "7",
      SMS_FAILURE_RATE: "0.3",
      LOG_LEVEL: "debug",
      REMINDER_AFTER_MS: String(REMINDER_AFTER_MS),
    },
    onOutput: (name, line) => output.push(`[${name}] ${line}`),
  });
  await fleet.init();
  await fleet.start("router");
  for (const name of [
    "relay",
    "checkout",
    "email",
    "inventory",
    "fulfillment",
    "history",
  ] as const) {
    await fleet.start(name);
  }
  for (const name of ["notifications", "sms", "usage"] as const) await fleet.start(name);
  browser = await chromium.launchPersistentContext(join(dataDir, "chromium"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${fleet.url("checkout")}/`);
  await page.locator("#sku option").first().waitFor({ state: "attached" });
}, 60_000);

afterEach(({ task }) => {
  // What checkout and the relay said is where a stalled order shows first.
  if (task.result?.state === "fail")
    console.error(
      output
        .filter((line) => /^\[(relay|checkout|fulfillment)\]/.test(line))
        .slice(-40)
        .join("\n"),
    );
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stopAll();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("the shop on Switchyard", () => {
  const orders = {} as Record<
    "alice" | "bob" | "carol" | "late" | "alice2" | "bob2" | "dave" | "offline",
    string
  >;

  it("fans one OrderPlaced out to every service, once each; an item that runs out is cancelled, not shipped", async () => {
    orders.alice = await placeAndPay("alice", "mug", 2);
    orders.bob = await placeAndPay("bob", "lamp"); // the last lamp
    orders.carol = await place("carol", "lamp"); // sold out: cancelled before anyone pays

    const shipped = { receipt: 1, stock: 1, shipment: 1, history: 1, sms: 1 };
    await expectEffects(orders.alice, shipped);
    await expectEffects(orders.bob, shipped);
    await expectEffects(orders.carol, { receipt: 1, stock: 1, notice: 1, history: 1 });
    expect(
      await page.locator(`tr[data-order="${orders.carol}"] [data-effect="stock"]`).textContent(),
    ).toContain("out of stock");
    await expectStatus(orders.alice, "shipped");
    await expectStatus(orders.bob, "shipped");
    await expectStatus(orders.carol, "cancelled");
    // The fake provider (seed 7) fails the first two sends: Switchyard's retries got them through.
    const sms = (await (await fetch(`${fleet.url("sms")}/state`)).json()) as {
      failures: number;
      sent: { attempt: number }[];
    };
    expect(sms.failures).toBe(2);
    expect(sms.sent.some((s) => s.attempt > 1)).toBe(true);
    expect(await attribute('#stock [data-sku="lamp"]', "data-left")).toBe("0");
    expect(await attribute('#stock [data-sku="mug"]', "data-left")).toBe("48");
    await eventually(async () => {
      expect(await attribute('#usage [data-customer="alice"]', "data-sms")).toBe("1");
      expect(await attribute('#usage [data-customer="bob"]', "data-sms")).toBe("1");
    }, SLOW);
  });

  it("follows one order through its life: placed, reminded while unpaid, paid, shipped — the router's stream of it is checkout's store", async () => {
    orders.late = await place("carol", "kettle");
    // Written with the order through the outbox: once relayed, pending in the router until due.
    await eventually(async () => {
      const pending = (await routerGet("/v1/topics/reminders/scheduled")) as {
        scheduled: { id: string }[];
      };
      expect(pending.scheduled.map((e) => e.id)).toContain(`reminder-${orders.late}`);
    }, SLOW);
    await expectStatus(orders.late, "placed");
    await expectEffects(orders.late, { receipt: 1, reminder: 1, stock: 1, history: 1 });
    await pay(orders.late);
    expect(await page.locator("#last-order").textContent()).toContain("reminder sent");
    await expectEffects(orders.late, {
      receipt: 1,
      reminder: 1,
      stock: 1,
      shipment: 1,
      history: 1,
      sms: 1,
    });
    await expectStatus(orders.late, "shipped");
    // The order is a stream: checkout's PostgreSQL store and the `orders` topic's subject
    // stream (what the relay published) hold the same events at the same versions.
    const lifecycle = [
      ["OrderPlaced", 1],
      ["OrderPaid", 2],
      ["OrderShipped", 3],
    ];
    const stream = (await routerGet(`/v1/topics/orders/subjects/${orders.late}/events`)) as {
      events: { type: string; subjectversion: number; causationid?: string }[];
      version: number;
    };
    expect(stream.events.map((e) => [e.type, e.subjectversion])).toEqual(lifecycle);
    const stored = (await (
      await fetch(`${fleet.url("checkout")}/api/orders/${orders.late}`)
    ).json()) as { status: string; version: number; state: OrderState; events: OrderEvent[] };
    expect(stored).toMatchObject({ status: "shipped", version: 3 });
    expect(stored.events.map((e, i) => [e.type, i + 1])).toEqual(lifecycle);
    // Folding the router's copy with the SDK's aggregate and checkout's own `evolve` (here
    // with the history key, which reads `orders`) gives checkout's state at its version.
    const reader = createClient({ url: fleet.url("router"), apiKey: fleet.keyOf("history") });
    try {
      const order = reader.aggregate<OrderState, never>({
        topic: "orders",
        initialState: INITIAL_ORDER,
        evolve: (state, event) => evolve(state, event as unknown as OrderEvent),
        decide: () => [],
      });
      expect(await order.load(orders.late)).toEqual({ state: stored.state, version: 3 });
      expect(stored.state).toMatchObject({ status: "shipped", paid: stored.state.order?.total });
    } finally {
      await reader.close();
    }
    // Every other order was paid or cancelled before its reminder was due: none is pending.
    await eventually(async () => {
      const after = (await routerGet("/v1/topics/reminders/scheduled")) as {
        scheduled: unknown[];
      };
      expect(after.scheduled).toEqual([]);
    }, SLOW);
  });

  it("refuses commands an order does not allow: paying a cancelled one, an unknown one, a bad request", async () => {
    const post = async (path: string, body = "") => {
      const res = await fetch(`${fleet.url("checkout")}${path}`, { method: "POST", body });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    expect(await post(`/api/orders/${orders.carol}/pay`)).toEqual({
      status: 409,
      body: { error: `order ${orders.carol} was cancelled: nothing to pay` },
    });
    expect((await post("/api/orders/o-ffffffff/pay")).status).toBe(404);
    expect((await post(`/api/orders/${orders.late}/ship`, "{not json")).status).toBe(400);
    // Nothing was appended by any of them.
    const carol = (await (
      await fetch(`${fleet.url("checkout")}/api/orders/${orders.carol}`)
    ).json()) as {
      version: number;
    };
    expect(carol.version).toBe(2); // placed, cancelled
  });

  it("takes a Slack notifier added while running, with no change to checkout", async () => {
    await fleet.start("slack");
    orders.alice2 = await placeAndPay("alice", "kettle");
    await expectEffects(orders.alice2, {
      receipt: 1,
      stock: 1,
      shipment: 1,
      history: 1,
      slack: 1,
      sms: 1,
    });
    // It starts at `latest`: earlier orders are not announced.
    await expectEffects(orders.alice, { receipt: 1, stock: 1, shipment: 1, history: 1, sms: 1 });
    await eventually(
      async () => expect(await attribute('#usage [data-customer="alice"]', "data-sms")).toBe("2"),
      SLOW,
    );
  });

  it("keeps the receipt of an order placed while email is down and sends it when email is back", async () => {
    await fleet.stop("email");
    orders.bob2 = await placeAndPay("bob", "mug");
    await expectEffects(orders.bob2, { stock: 1, shipment: 1, history: 1, slack: 1, sms: 1 });
    await fleet.start("email");
    await expectEffects(orders.bob2, {
      receipt: 1,
      stock: 1,
      shipment: 1,
      history: 1,
      slack: 1,
      sms: 1,
    });
  });

  it("keeps SMS requests while the SMS service is down and sends each once when it is back", async () => {
    await fleet.stop("sms");
    orders.dave = await placeAndPay("dave", "mug");
    await expectEffects(orders.dave, { receipt: 1, stock: 1, shipment: 1, history: 1, slack: 1 });
    // The request was accepted and waits in the router for the `sms` subscription.
    await eventually(async () => {
      const { stats } = (await routerGet("/v1/subscriptions/sms")) as { stats: { lag: number } };
      expect(stats.lag).toBeGreaterThan(0);
    }, SLOW);
    await fleet.start("sms");
    await expectEffects(orders.dave, {
      receipt: 1,
      stock: 1,
      shipment: 1,
      history: 1,
      slack: 1,
      sms: 1,
    });
    await eventually(
      async () => expect(await attribute('#usage [data-customer="dave"]', "data-sms")).toBe("1"),
      SLOW,
    );
  });

  it("takes orders while the outbox relay is down, and publishes them, once, when it is back", async () => {
    await fleet.stop("relay");
    const offline = await place("bob", "kettle");
    // Committed in checkout's database (its row and the reminder's), not in the log yet.
    await eventually(async () => {
      expect(Number(await attribute("#outbox", "data-pending"))).toBeGreaterThanOrEqual(2);
    }, SLOW);
    const stored = (await (
      await fetch(`${fleet.url("checkout")}/api/orders/${offline}`)
    ).json()) as {
      version: number;
    };
    expect(stored.version).toBe(1);
    expect((await effectsOf(offline)).receipt).toBe(0);
    await fleet.start("relay");
    await eventually(async () => expect((await effectsOf(offline)).receipt).toBe(1), SLOW);
    await pay(offline);
    await expectStatus(offline, "shipped");
    // History can show "shipped" before the relay, having published OrderShipped, marks its row sent.
    await eventually(
      async () => expect(await attribute("#outbox", "data-pending")).toBe("0"),
      SLOW,
    );
    const placed = (
      (await routerGet(`/v1/topics/orders/subjects/${offline}/events`)) as {
        events: { type: string }[];
      }
    ).events.filter((e) => e.type === "OrderPlaced");
    expect(placed).toHaveLength(1);
    orders.offline = offline;
  });

  it("dead-letters an SMS that cannot be sent, and sends it once redriven after the fix", async () => {
    const notify = await fetch(`${fleet.url("notifications")}/notify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requestId: "welcome-erin", customerId: "erin", text: "Welcome!" }),
    });
    expect(notify.status).toBe(202);
    await eventually(async () => {
      const page = await routerGet("/v1/topics/notifications.sms.dlq/events?from=1");
      expect(JSON.stringify(page)).toContain("no phone number for customer erin");
    }, SLOW);
    const added = await fetch(`${fleet.url("sms")}/phones`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ customerId: "erin", phone: "+1-555-0105" }),
    });
    expect(added.status).toBe(200);
    const redrive = await fetch(
      `${fleet.url("router")}/v1/subscriptions/sms/redrive`,
      asAdmin({ method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
    );
    expect(redrive.status).toBe(202);
    await eventually(
      async () => expect(await attribute('#usage [data-customer="erin"]', "data-sms")).toBe("1"),
      SLOW,
    );
  });

  it("refuses a webhook whose signature does not verify, and does nothing with it", async () => {
    const forged = await fetch(`${fleet.url("email")}/webhooks/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/cloudevents+json",
        "webhook-id": "msg_forged",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
      },
      body: JSON.stringify({ id: "o-forged", source: "/evil", type: "OrderPlaced" }),
    });
    expect(forged.status).toBe(401);
    const { sent } = (await (await fetch(`${fleet.url("email")}/state`)).json()) as {
      sent: { orderId: string }[];
    };
    expect(sent.map((m) => m.orderId)).not.toContain("o-forged");
  });

  it("carries the order's correlation id and each cause through every event it led to", async () => {
    const log = async (topic: string) =>
      (
        (await routerGet(`/v1/topics/${topic}/events?from=1`)) as {
          events: Record<string, string>[];
        }
      ).events;
    const [placed] = (await log("orders")).filter((e) => e.id === orders.alice);
    const reserved = (await log("inventory")).find((e) => e.correlationid === orders.alice);
    const request = (await log("notifications")).find((e) => e.correlationid === orders.alice);
    const sms = (await log("sms")).find((e) => e.correlationid === orders.alice);
    expect(placed?.correlationid).toBe(orders.alice);
    expect(reserved?.causationid).toBe(placed?.id);
    expect(request?.causationid).toBe(reserved?.id);
    expect(sms?.causationid).toBe(request?.id);
  });

  it("shows an order's flow in the dashboard: every service's event, nested by cause", async () => {
    const dashboard = await browser.newPage();
    const errors: string[] = [];
    dashboard.on("console", (m) => {
      // The dashboard's own "no session yet" 401 is expected; the browser logs it.
      if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    dashboard.on("pageerror", (error) => errors.push(error.message));
    const router = fleet.url("router");
    const signIn = async (key: string) => {
      await dashboard.goto(`${router}/ui/`);
      await dashboard.getByLabel("API key").fill(key);
      await dashboard.getByRole("button", { name: "Sign in" }).click();
      await dashboard.getByRole("heading", { name: "Overview" }).waitFor();
    };
    /** [event type, service, topic, depth] of each event in the causation tree, in order. */
    const tree = () =>
      dashboard
        .locator("ul.tree li")
        .evaluateAll((items) =>
          items.map((li) => [
            li.querySelector(":scope > .head code")?.textContent,
            li.querySelector(":scope > .head strong")?.textContent,
            li.querySelector(":scope > .head a")?.textContent,
            li.getAttribute("data-depth"),
          ]),
        );
    try {
      await signIn(fleet.adminKey);
      await dashboard.getByLabel("Find a flow").fill(orders.alice);
      await dashboard.getByRole("button", { name: "Open flow" }).click();
      await dashboard.getByRole("heading", { name: `Flow ${orders.alice}` }).waitFor();
      // The order, its payment and the stock it reserved; the shipment that reservation
      // (and the payment) allowed, the SMS it asked for, the SMS sent: five services on four
      // topics, each event under the one that caused it. Siblings appear in append order,
      // which races (the relay vs a direct publish), so the tree is compared sorted.
      const sorted = async () => (await tree()).map((row) => row.join(" ")).sort();
      await expect.poll(sorted, { timeout: SLOW.timeoutMs, interval: SLOW.intervalMs }).toEqual(
        [
          ["OrderPlaced", "/shop/checkout", "orders", "0"],
          ["OrderPaid", "/shop/checkout", "orders", "1"],
          ["StockReserved", "/shop/inventory", "inventory", "1"],
          ["OrderShipped", "/shop/checkout", "orders", "2"],
          ["NotificationRequested", "/notifications", "notifications", "2"],
          ["SmsSent", "/notifications/sms", "sms", "3"],
        ]
          .map((row) => row.join(" "))
          .sort(),
      );
      for (const [parent, children] of [
        ["OrderPlaced", ["OrderPaid", "StockReserved"]],
        ["StockReserved", ["NotificationRequested", "OrderShipped"]],
        ["NotificationRequested", ["SmsSent"]],
      ] as const)
        expect(
          (
            await dashboard
              .locator(`ul.tree li:has(> .head code:text-is("${parent}")) > ul > li > .head code`)
              .allTextContents()
          ).sort(),
        ).toEqual(children);
      const timeline = dashboard.getByRole("list", { name: "Timeline, in append order" });
      expect(await timeline.getByRole("listitem").count()).toBe(6);
      expect(await dashboard.locator("#flow-hidden").count()).toBe(0);
      await dashboard.screenshot({
        path: join(import.meta.dirname, "../../test-artifacts/dashboard/shop-flow.png"),
        fullPage: true,
      });
      // The history service's key reads `orders` only: the order shows, the rest is counted.
      await dashboard.getByRole("button", { name: "Sign out" }).click();
      await signIn(fleet.keyOf("history"));
      await dashboard.goto(`${router}/ui/flows/${orders.alice}`);
      await dashboard.getByText("3 events on topics your key cannot read").waitFor();
      // (StockReserved, NotificationRequested, SmsSent; the reminder was cancelled unsent.)
      // OrderShipped's cause (StockReserved) is hidden from it, so it shows as a root.
      expect(await sorted()).toEqual(
        [
          ["OrderPlaced", "/shop/checkout", "orders", "0"],
          ["OrderPaid", "/shop/checkout", "orders", "1"],
          ["OrderShipped", "/shop/checkout", "orders", "0"],
        ]
          .map((row) => row.join(" "))
          .sort(),
      );
      expect(errors).toEqual([]);
    } finally {
      await dashboard.close();
    }
  });

  it("backfills a profile service added last from the log, orders placed before it existed included", async () => {
    await fleet.start("profiles");
    for (const id of Object.values(orders)) {
      await eventually(async () => expect((await effectsOf(id)).profile).toBe(1), SLOW);
    }
    const alice = (await (await fetch(`${fleet.url("profiles")}/profiles/alice`)).json()) as {
      orders: string[];
    };
    expect(alice.orders).toEqual([orders.alice, orders.alice2]);
  });

  it("does nothing twice when every event is delivered again (replay from the start)", async () => {
    const before = Object.fromEntries(
      await Promise.all(
        Object.values(orders).map(async (id) => [id, await effectsOf(id)] as const),
      ),
    );
    // Not slack: it started at `latest`, so a replay would announce old orders for the first time.
    const replayed = [
      "email-receipts",
      "email-out-of-stock",
      "email-reminders",
      "checkout",
      "inventory",
      "history",
      "fulfillment",
      "fulfillment-paid",
      "sms",
      "usage",
      "profiles",
    ];
    for (const sub of replayed) {
      const res = await fetch(
        `${fleet.url("router")}/v1/subscriptions/${sub}/seek`,
        asAdmin({
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ to: "earliest" }),
        }),
      );
      expect(res.status).toBe(200);
    }
    for (const sub of replayed) await drained(sub);
    await freshRender();
    for (const [id, effects] of Object.entries(before))
      expect(await effectsOf(id)).toEqual(effects);
    expect(await attribute('#stock [data-sku="mug"]', "data-left")).toBe("46");
    const mail = readFileSync(join(dataDir, "email", "mail.log"), "utf8")
      .trim()
      .split("\n");
    // A receipt each, one apology (carol's lamp), the reminders: none twice.
    const sent = mail.map((line) => JSON.parse(line) as { kind: string; orderId: string });
    expect(new Set(sent.map((m) => `${m.kind} ${m.orderId}`)).size).toBe(sent.length);
    expect(sent.filter((m) => m.kind === "receipt")).toHaveLength(Object.keys(orders).length);
    expect(sent.filter((m) => m.kind === "out-of-stock").map((m) => m.orderId)).toEqual([
      orders.carol,
    ]);
    expect(sent.filter((m) => m.kind === "reminder").map((m) => m.orderId)).toContain(orders.late);
  });

  it("rebuilds the order history (a projection) while the shop runs: the same rows, and the order placed meanwhile", async () => {
    type Row = { orderId: string; status: string; version: number };
    const rows = async () =>
      (await (await fetch(`${fleet.url("history")}/orders`)).json()) as Row[];
    const before = await rows();
    expect(before.map((r) => r.orderId).sort()).toEqual(Object.values(orders).sort());
    expect(await attribute("#rebuild-status", "data-table")).toBe("orders__r1");
    await page.click("#rebuild");
    // The shop keeps taking orders while the history replays the log into a fresh table.
    const during = await placeAndPay("alice", "mug");
    await eventually(async () => {
      expect(await attribute("#rebuild-status", "data-state")).toBe("done");
    }, SLOW);
    expect(await attribute("#rebuild-status", "data-rebuilds")).toBe("1");
    expect(await attribute("#rebuild-status", "data-table")).toBe("orders__r2");
    const rebuilt = (await (await fetch(`${fleet.url("history")}/rebuild`)).json()) as {
      progress: { applied: number; total: number };
    };
    // Every order event of the log went through the fresh table (placed, paid, shipped…).
    expect(rebuilt.progress.applied).toBe(rebuilt.progress.total);
    expect(rebuilt.progress.applied).toBeGreaterThanOrEqual(before.length * 2);
    await expectStatus(during, "shipped");
    const after = await rows();
    expect(after.filter((r) => r.orderId !== during)).toEqual(before);
    expect(after.find((r) => r.orderId === during)).toMatchObject({
      status: "shipped",
      version: 3,
    });
    await freshRender();
    await page.screenshot({
      path: join(import.meta.dirname, "../../test-artifacts/shop/storefront.png"),
      fullPage: true,
    });
  });

  it("refuses each service's key outside its scopes (403), and without a key (401)", async () => {
    const as = async (
      service: (typeof SERVICES)[number] | null,
      method: string,
      path: string,
      body?: unknown,
    ) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (service) headers.authorization = `Bearer ${fleet.keyOf(service)}`;
      const res = await fetch(`${fleet.url("router")}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as { code?: string; detail?: string } };
    };
    const { keys } = (await routerGet("/v1/keys")) as {
      keys: { name: string; scopes: string[] }[];
    };
    for (const service of SERVICES) {
      expect(keys.find((k) => k.name === `shop-${service}`)?.scopes).toEqual(scopesOf(service));
      expect((await as(service, "GET", "/v1/keys/self")).body).toMatchObject({
        name: `shop-${service}`,
      });
    }
    const order = { type: "OrderPlaced", source: "/evil", data: {} };
    // Each: what a service's key tries that its service never needs.
    const attempts: [(typeof SERVICES)[number], string, string, unknown?][] = [
      ["checkout", "GET", "/v1/topics/orders/events?from=1"],
      // Checkout writes its events to its outbox: only the relay's key publishes them.
      ["checkout", "POST", "/v1/topics/orders/events", order],
      ["relay", "POST", "/v1/subscriptions/checkout/pull", { max: 1 }],
      ["checkout", "POST", "/v1/subscriptions/email-receipts/pull", { max: 1 }],
      ["checkout", "PUT", "/v1/subscriptions/spy", { topic: "orders" }],
      ["email", "POST", "/v1/topics/orders/events", order],
      ["inventory", "POST", "/v1/subscriptions/history/pull", { max: 1 }],
      // manage: on its own subscription, but no read: on `sms`.
      ["inventory", "PUT", "/v1/subscriptions/inventory", { topic: "sms" }],
      ["sms", "GET", "/v1/topics/orders/events?from=1"],
      ["notifications", "GET", "/v1/keys"],
      ["history", "POST", "/v1/subscriptions/inventory/seek", { to: "earliest" }],
    ];
    for (const [service, method, path, body] of attempts) {
      const { status, body: problem } = await as(service, method, path, body);
      expect({ service, method, path, status, code: problem.code }).toEqual({
        service,
        method,
        path,
        status: 403,
        code: "forbidden",
      });
    }
    expect((await as(null, "GET", "/v1/topics/orders/events?from=1")).status).toBe(401);
    // The same keys do what their services need.
    expect((await as("history", "GET", "/v1/topics/orders/events?from=1")).status).toBe(200);
  });

  it("prints no key in full in any process's output", async () => {
    expect(output.filter((line) => line.startsWith("[router] ")).length).toBeGreaterThan(0);
    const keys = [fleet.adminKey, ...SERVICES.map((s) => fleet.keyOf(s))];
    const secrets = keys.map((key) => key.split("_")[2] ?? key);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(40);
      expect(output.filter((line) => line.includes(secret))).toEqual([]);
    }
    // Nor the audit log (today: the redrive above).
    const audit = JSON.stringify(await routerGet("/v1/topics/switchyard.audit/events?from=1"));
    expect(audit).toContain("switchyard.redrive.finished");
    for (const secret of secrets) expect(audit).not.toContain(secret);
  });
});
