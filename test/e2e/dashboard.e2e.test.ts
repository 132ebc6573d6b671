/**
 * The dashboard in real Chromium against a real router with auth: sign-in, the overview,
 * browsing and filtering a topic's events, the live tail showing an event published during
 * the test, a redrive from the UI (dry run, then the move, polled to done) that the API then
 * confirms, a `read:orders` key that sees no other topic and no redrive, and a page of
 * another origin that the router refuses although the browser sends it the session cookie.
 * No page may log an error (a CSP violation would). Screenshots go to test-artifacts/.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/broker/keys.js";
import { launchChromium, openPage, type WatchedPage } from "../support/chromium.js";
import { eventually } from "../support/eventually.js";
import { startTestRouter, type TestRouter } from "../support/router.js";

const ADMIN = generateKey().key;
const SHOTS = join(import.meta.dirname, "../../test-artifacts/dashboard");

let router: TestRouter;
let browser: Browser;
let readOrdersKey: string;
let sink: Server;
const HOOK_HEADER = "Bearer hook-header-value-never-shown";
const HOOK_SECRET = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
const opened: WatchedPage[] = [];

async function api(method: string, path: string, body?: unknown, key = ADMIN) {
  const response = await fetch(`${router.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? {} : JSON.parse(text)) as never };
}

async function publish(topic: string, events: readonly Record<string, unknown>[]) {
  const response = await fetch(`${router.url}/v1/topics/${topic}/events`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ADMIN}`,
      "content-type": "application/cloudevents-batch+json",
    },
    body: JSON.stringify(
      events.map((e, i) => ({
        specversion: "1.0",
        source: "test",
        id: `e-${Date.now()}-${i}`,
        ...e,
      })),
    ),
  });
  expect(response.status).toBe(201);
}

/** The dashboard's own 401 for "no session yet" is expected; the browser logs it. */
function unexpected(errors: readonly string[]): string[] {
  return errors.filter((e) => !/status of 401/.test(e));
}

async function page(viewport?: { width: number; height: number }): Promise<WatchedPage> {
  const watched = await openPage(browser, viewport);
  opened.push(watched);
  return watched;
}

async function signIn(p: Page, key: string): Promise<void> {
  await p.goto(`${router.url}/ui/`);
  await p.getByLabel("API key").fill(key);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("heading", { name: "Overview" }).waitFor();
}

const shot = (p: Page, name: string) =>
  p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("the dashboard in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    router = await startTestRouter({ auth: true, adminKey: ADMIN, allowPrivateEndpoints: true });
    // A push endpoint that always fails: its subscription turns degraded.
    sink = createServer((_request, response) => {
      response.statusCode = 503;
      response.end();
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    // Indexed by correlationid, so a flow across the two shows on the flow page.
    for (const topic of ["orders", "payments"])
      expect((await api("PUT", `/v1/topics/${topic}`, { indexes: ["correlationid"] })).status).toBe(
        201,
      );
    await publish("orders", [
      { type: "order.created", subject: "order-1", partitionkey: "c-1", data: { total: 10 } },
      { type: "order.created", subject: "order-2", partitionkey: "c-2", data: { total: 20 } },
      { type: "order.paid", subject: "order-1", partitionkey: "c-1", correlationid: "corr-7" },
      { type: "order.shipped", subject: "order-1", partitionkey: "c-1", data: { by: "van" } },
    ]);
    await publish("payments", [{ type: "payment.settled", data: { amount: 10 } }]);
    const sub = await api("PUT", "/v1/subscriptions/orders-pull", {
      topic: "orders",
      start: "earliest",
    });
    expect(sub.status).toBe(201);
    // Two dead letters, rejected with a reason the page must show.
    const pulled = await api("POST", "/v1/subscriptions/orders-pull/pull", { max: 2 });
    const ackIds = (pulled.body as { deliveries: { ackId: string }[] }).deliveries.map(
      (d) => d.ackId,
    );
    expect(ackIds).toHaveLength(2);
    await api("POST", "/v1/subscriptions/orders-pull/reject", { ackIds, reason: "total invalid" });
    await eventually(async () => {
      const s = await api("GET", "/v1/subscriptions/orders-pull");
      expect((s.body as { stats: { deadLettered: number } }).stats.deadLettered).toBe(2);
    });
    const hook = await api("PUT", "/v1/subscriptions/orders-hook", {
      topic: "orders",
      start: "earliest",
      maxAttempts: 100,
      backoff: { initialMs: 1000, maxMs: 2000, multiplier: 2 },
      push: {
        url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`,
        headers: { authorization: HOOK_HEADER },
        secret: HOOK_SECRET,
      },
    });
    expect(hook.status).toBe(201);
    await eventually(async () => {
      const s = await api("GET", "/v1/subscriptions/orders-hook");
      expect((s.body as { state: string }).state).toBe("degraded");
    });
    const schema = await api("PUT", "/v1/schemas/order.created", {
      schema: { type: "object", properties: { total: { type: "number", minimum: 0 } } },
    });
    expect(schema.status).toBe(201);
    const created = await api("POST", "/v1/keys", {
      name: "orders-reader",
      scopes: ["read:orders"],
    });
    expect(created.status).toBe(201);
    readOrdersKey = (created.body as { key: string }).key;
    await eventually(async () =>
      expect((await api("GET", "/v1/keys/self", undefined, readOrdersKey)).status).toBe(200),
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await router?.dispose();
    await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
  });

  it("signs in, shows the overview with rates, topics and subscriptions, and signs out", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    const topics = p.getByRole("table").nth(1);
    await expect.poll(() => topics.getByRole("link").allTextContents()).toContain("orders");
    expect(await topics.getByRole("link").allTextContents()).toContain("payments");
    await p.getByRole("link", { name: "orders-pull", exact: true }).waitFor();
    // The failing push endpoint comes first, marked degraded.
    const firstRow = p.getByRole("table").first().getByRole("row").nth(1);
    await expect.poll(() => firstRow.textContent()).toContain("orders-hook");
    expect(await firstRow.textContent()).toContain("degraded");
    // The charts fill from the second poll on; events published meanwhile show as a rate.
    for (let i = 0; i < 6; i++) {
      await publish("payments", [{ type: "payment.settled", data: { amount: i } }]);
      await p.waitForTimeout(500);
    }
    await p.getByText(/Published: events [1-9]/).waitFor({ timeout: 5000 });
    await shot(p, "overview");
    // A reload keeps the session (GET /ui/session gives the CSRF token back).
    await p.reload();
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    await p.getByRole("button", { name: "Sign out" }).click();
    await p.getByLabel("API key").waitFor();
    await p.reload();
    await p.getByLabel("API key").waitFor();
    expect(unexpected(errors)).toEqual([]);
  });

  it("refuses a wrong key with the router's problem", async () => {
    const { page: p, errors } = await page();
    await p.goto(`${router.url}/ui/`);
    await p.getByLabel("API key").fill("sy_0123456789abcdef_nope");
    await p.getByRole("button", { name: "Sign in" }).click();
    await p
      .getByRole("alert")
      .getByText(/401 unauthenticated/)
      .waitFor();
    await shot(p, "login");
    expect(unexpected(errors)).toEqual([]);
  });

  it("browses and filters a topic's events and tails one published during the test", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    await p.getByRole("link", { name: "orders", exact: true }).click();
    await p.getByRole("heading", { name: "Topic orders" }).waitFor();
    const list = p.getByRole("list", { name: "Events of this page" });
    await expect.poll(() => list.getByRole("listitem").count()).toBe(4);
    await p.getByLabel("Type").first().fill("order.created");
    await expect.poll(() => list.getByRole("listitem").count()).toBe(2);
    await p.getByLabel("Type").first().fill("");
    await p.getByLabel("Correlation id").first().fill("corr-7");
    await expect.poll(() => list.getByRole("listitem").count()).toBe(1);
    await expect.poll(() => list.textContent()).toContain("order.paid");
    await p.getByLabel("Correlation id").first().fill("");
    // Paging from an offset.
    await p.getByLabel("From offset").fill("3");
    await p.getByRole("button", { name: "Read", exact: true }).click();
    await expect.poll(() => list.getByRole("listitem").count()).toBe(2);
    await list.getByText("Event", { exact: false }).first().click(); // opens the JSON
    await expect.poll(() => list.locator("pre").first().textContent()).toContain('"specversion"');

    // By append time: a time before the first event reads from the start.
    await p.getByLabel("Read by").selectOption("time");
    await p.getByLabel("Since").fill("2020-01-01T00:00");
    await p.getByRole("button", { name: "Read", exact: true }).click();
    await expect.poll(() => list.getByRole("listitem").count()).toBe(4);
    await p.getByLabel("Since").fill("2099-01-01T00:00");
    await p.getByRole("button", { name: "Read", exact: true }).click();
    await expect.poll(() => list.getByRole("listitem").count()).toBe(0);

    await p.getByRole("button", { name: "Start tail" }).click();
    await p.getByText(/Tailing from offset 5/).waitFor();
    await publish("orders", [{ id: "tailed-1", type: "order.cancelled", subject: "order-2" }]);
    const tail = p.getByRole("list", { name: "Live events, newest first" });
    await tail.getByText("id tailed-1").waitFor({ timeout: 5000 });
    await shot(p, "topic");
    expect(unexpected(errors)).toEqual([]);
  });

  it("redrives dead letters from the UI: dry run first, then the move, polled to done", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    await p.goto(`${router.url}/ui/subscriptions/orders-pull`);
    await p.getByRole("heading", { name: "Subscription orders-pull" }).waitFor();
    await p.getByText("Dead-lettered").waitFor();
    await shot(p, "subscription");
    await p.getByRole("link", { name: "dead letters" }).click();
    await p.getByRole("heading", { name: "Dead letters of orders-pull" }).waitFor();
    const letters = p.getByRole("list", { name: "Dead letters" });
    await expect.poll(() => letters.getByRole("listitem").count()).toBe(2);
    expect(await letters.textContent()).toContain("Reason: total invalid");
    // No move before a dry run.
    expect(await p.getByRole("button", { name: /^Redrive \d/ }).count()).toBe(0);
    await p.getByRole("button", { name: "Dry run" }).click();
    await p.getByText("Dry run: 2 dead letters over 2 keys would move.").waitFor();
    await shot(p, "dead-letters");
    await p.getByRole("button", { name: "Redrive 2 events" }).click();
    await p.getByText("Redrive done: 2 of 2 moved.").waitFor({ timeout: 10_000 });
    // The API sees them back in the subscription: a pull delivers the two again.
    await eventually(async () => {
      const pulled = await api("POST", "/v1/subscriptions/orders-pull/pull", { max: 10 });
      const ids = (pulled.body as { deliveries: { event: { subject: string } }[] }).deliveries;
      expect(ids.map((d) => d.event.subject)).toEqual(
        expect.arrayContaining(["order-1", "order-2"]),
      );
    });
    expect(unexpected(errors)).toEqual([]);
  });

  it("shows a read:orders key only its topic and no redrive", async () => {
    const { page: p, errors } = await page();
    await signIn(p, readOrdersKey);
    const topics = p.getByRole("table");
    await expect.poll(() => topics.getByRole("link").allTextContents()).toEqual(["orders"]);
    await p.getByText("No subscriptions this key may see.").waitFor();
    expect(await p.getByText("payments").count()).toBe(0);
    expect(await p.getByRole("link", { name: "Keys" }).count()).toBe(0);
    await shot(p, "read-only-overview");
    await p.goto(`${router.url}/ui/topics/payments`);
    await p.getByText("This key may not see topic payments.").waitFor();
    await p.goto(`${router.url}/ui/subscriptions/orders-pull/dead-letters`);
    await p.getByText("This key may not see subscription orders-pull.").waitFor();
    expect(await p.getByRole("button", { name: /Dry run|Redrive/ }).count()).toBe(0);
    await p.goto(`${router.url}/ui/topics/orders`);
    await expect
      .poll(() =>
        p.getByRole("list", { name: "Events of this page" }).getByRole("listitem").count(),
      )
      .toBeGreaterThan(0);
    expect(unexpected(errors)).toEqual([]);
  });

  it("shows a push subscription's health without its secrets, and pauses and resumes it", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    await p.getByRole("link", { name: "orders-hook", exact: true }).click();
    await p.getByRole("heading", { name: "Subscription orders-hook" }).waitFor();
    await p.getByText("degraded").first().waitFor();
    await p.getByRole("heading", { name: "Recent push attempts" }).waitFor();
    await expect.poll(() => p.getByRole("table").getByRole("row").count()).toBeGreaterThan(1);
    const html = await p.content();
    expect(html).toContain("headerNames");
    expect(html).not.toContain("hook-header-value-never-shown");
    expect(html).not.toContain(HOOK_SECRET.slice(6, 20));
    await shot(p, "push-subscription");
    await p.getByRole("button", { name: "Pause" }).click();
    await p.getByRole("button", { name: "Resume" }).waitFor();
    expect((await api("GET", "/v1/subscriptions/orders-hook")).body).toMatchObject({
      state: "paused",
    });
    await p.getByRole("button", { name: "Resume" }).click();
    await p.getByRole("button", { name: "Pause" }).waitFor();
    expect((await api("GET", "/v1/subscriptions/orders-hook")).body).not.toMatchObject({
      state: "paused",
    });
    // Seek past everything: nothing left to deliver.
    await p.getByLabel("Seek to").selectOption("latest");
    await p.getByRole("button", { name: "Seek", exact: true }).click();
    await p.getByText(/Moved to offset \d+/).waitFor();
    await eventually(async () =>
      expect((await api("GET", "/v1/subscriptions/orders-hook")).body).toMatchObject({
        stats: { lag: 0 },
      }),
    );
    expect(unexpected(errors)).toEqual([]);
  });

  it("shows the schema registry", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    await p.getByRole("link", { name: "Schemas" }).click();
    await p.getByRole("heading", { name: "Schemas", exact: true }).waitFor();
    await p.getByRole("link", { name: "order.created" }).click();
    await p.getByRole("heading", { name: "Schema order.created" }).waitFor();
    await expect.poll(() => p.locator("pre").textContent()).toContain('"minimum": 0');
    expect(await p.getByLabel("Version", { exact: true }).inputValue()).toBe("1");
    await p.getByText("One version: nothing to compare yet.").waitFor();
    // A second version (dropping `minimum` widens it: BACKWARD-compatible) makes a diff.
    const v2 = await api("PUT", "/v1/schemas/order.created", {
      schema: {
        type: "object",
        properties: { total: { type: "number", description: "in cents" } },
      },
    });
    expect(v2).toMatchObject({ status: 201, body: { version: 2 } });
    await p.reload();
    await p.getByRole("heading", { name: "Compare versions" }).waitFor();
    expect(await p.getByLabel("From version").inputValue()).toBe("1");
    expect(await p.getByLabel("To version").inputValue()).toBe("2");
    await p.getByText("From version 1 to 2: 1 line added (+), 1 removed (-).").waitFor();
    const diff = p.locator("pre.diff");
    // Marked by text (+/-) and by element (ins/del), not by colour alone.
    expect(await diff.locator("del").allTextContents()).toEqual(['-       "minimum": 0,']);
    expect(await diff.locator("ins").allTextContents()).toEqual([
      '+       "description": "in cents",',
    ]);
    expect(await diff.textContent()).toContain('"type": "number"');
    await shot(p, "schema");
    // Any two: the same version twice differs nowhere; swapped, the marks swap.
    await p.getByLabel("From version").selectOption("2");
    await p.getByText("Versions 2 and 2 are the same.").waitFor();
    expect(await diff.locator("ins, del").count()).toBe(0);
    await p.getByLabel("To version").selectOption("1");
    await p.getByText("From version 2 to 1: 1 line added (+), 1 removed (-).").waitFor();
    expect(await diff.locator("ins").allTextContents()).toEqual(['+       "minimum": 0,']);
    expect(unexpected(errors)).toEqual([]);
  });

  it("charts a push subscription's attempts, failures apart, and says so in text", async () => {
    // An endpoint that fails every third request: successes and failures both in the log.
    let requests = 0;
    const flaky = createServer((_request, response) => {
      requests += 1;
      response.statusCode = requests % 3 === 0 ? 500 : 204;
      response.end();
    });
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
    try {
      // Enough events of its own that every third request fails at least twice.
      await publish(
        "payments",
        Array.from({ length: 6 }, (_, i) => ({ type: "payment.settled", data: { amount: i } })),
      );
      const created = await api("PUT", "/v1/subscriptions/payments-hook", {
        topic: "payments",
        start: "earliest",
        maxAttempts: 100,
        backoff: { initialMs: 50, maxMs: 100, multiplier: 2 },
        push: { url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/hook` },
      });
      expect(created.status).toBe(201);
      type Log = { attempts: { status: number | null; latencyMs: number }[] };
      let log: Log["attempts"] = [];
      await eventually(
        async () => {
          const s = await api("GET", "/v1/subscriptions/payments-hook");
          expect(s.body).toMatchObject({ stats: { lag: 0, inFlight: 0 } });
          log = (
            (await api("GET", "/v1/subscriptions/payments-hook/attempts?limit=200")).body as Log
          ).attempts;
          expect(log.some((a) => a.status === 500)).toBe(true);
          // The log is complete once it holds every delivery the stats count (one per
          // attempt) and a success for every ack: then the page must show these figures.
          const stats = (s.body as { stats: { delivered: number; acked: number } }).stats;
          expect([log.length, log.filter((a) => a.status === 204).length]).toEqual([
            stats.delivered,
            stats.acked,
          ]);
        },
        { timeoutMs: 15_000 },
      );
      const failed = log.filter((a) => a.status !== 204).length;
      const { page: p, errors } = await page();
      await signIn(p, ADMIN);
      await p.goto(`${router.url}/ui/subscriptions/payments-hook`);
      await p.getByRole("heading", { name: "Subscription payments-hook" }).waitFor();
      const figure = p.locator("figure.attempts-chart");
      await figure.locator("canvas").waitFor();
      const caption = await figure.locator("figcaption").textContent();
      const [, count, fails] = /(\d+) attempts, (\d+) failed, median latency \d+ ms/.exec(
        caption ?? "",
      ) ?? [caption];
      expect([Number(count), Number(fails)]).toEqual([log.length, failed]);
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(log.length);
      // The legend names both series; the canvas is hidden from screen readers, the caption not.
      expect(await figure.locator(".u-legend").textContent()).toMatch(/succeeded.*failed/);
      expect(await figure.locator("[aria-hidden=true] canvas").count()).toBe(1);
      await p.getByRole("table").getByText("500 (failed)").first().waitFor();
      await shot(p, "push-attempts");
      // A pull subscription has no attempt log: no chart, no table.
      await p.goto(`${router.url}/ui/subscriptions/orders-pull`);
      await p.getByRole("heading", { name: "Subscription orders-pull" }).waitFor();
      await p.getByText("Dead-lettered").waitFor();
      expect(await p.getByRole("heading", { name: "Recent push attempts" }).count()).toBe(0);
      expect(await p.locator("figure.attempts-chart").count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await api("DELETE", "/v1/subscriptions/payments-hook");
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });

  it("creates a key shown once and revokes it (admin)", async () => {
    const { page: p, errors } = await page();
    await signIn(p, ADMIN);
    await p.getByRole("link", { name: "Keys" }).click();
    await p.getByRole("heading", { name: "API keys" }).waitFor();
    await p.getByLabel("Name").fill("made-in-ui");
    await p.getByLabel("Scopes (space or comma separated)").fill("read:payments, metrics");
    await p.getByRole("button", { name: "Create" }).click();
    const key = await p.getByLabel("New key").inputValue();
    expect(key).toMatch(/^sy_[a-z0-9]{16}_[A-Za-z0-9]{43}$/);
    await eventually(async () =>
      expect((await api("GET", "/v1/keys/self", undefined, key)).body).toMatchObject({
        name: "made-in-ui",
        scopes: ["read:payments", "metrics"],
      }),
    );
    await shot(p, "keys");
    await p.getByRole("button", { name: "Done" }).click();
    expect(await p.getByLabel("New key").count()).toBe(0);
    await p.getByRole("button", { name: "Revoke made-in-ui" }).click();
    await p.getByRole("button", { name: "Confirm revoking made-in-ui" }).click();
    await expect.poll(() => p.getByRole("table").textContent()).not.toContain("made-in-ui");
    await eventually(async () =>
      expect((await api("GET", "/v1/keys/self", undefined, key)).status).toBe(401),
    );
    expect(unexpected(errors)).toEqual([]);
  });

  it("signs in by keyboard alone", async () => {
    const { page: p, errors } = await page();
    await p.goto(`${router.url}/ui/`);
    await p.getByLabel("API key").waitFor();
    await p.keyboard.press("Tab");
    await p.waitForFunction('document.activeElement?.id === "key"', undefined, { timeout: 5_000 });
    await p.keyboard.type(ADMIN);
    await p.keyboard.press("Enter");
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    // The heading takes focus (after it renders), so a screen reader announces the page.
    await p.waitForFunction('document.activeElement?.tagName === "H1"', undefined, {
      timeout: 5_000,
    });
    expect(unexpected(errors)).toEqual([]);
  });

  it("works at phone width", async () => {
    const { page: p, errors } = await page({ width: 390, height: 844 });
    await signIn(p, ADMIN);
    await p.getByRole("link", { name: "orders-pull", exact: true }).waitFor();
    const width = await p.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    await shot(p, "overview-phone");
    expect(unexpected(errors)).toEqual([]);
  });

  describe("the flow page", () => {
    const FLOW = "flow-1";
    /** The ids of the events listed directly under one, in the causation tree. */
    const under = (p: Page, id: string) =>
      p
        .locator(`ul.tree li[data-event-id="${id}"] > ul > li`)
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-event-id")));
    const roots = (p: Page) =>
      p
        .locator("ul.tree > li")
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-event-id")));
    const pause = () => new Promise((resolve) => setTimeout(resolve, 25));

    beforeAll(async () => {
      // placed → paid (another topic, another service) → shipped; placed → noted.
      await publish("orders", [
        { id: "fl-placed", source: "/checkout", type: "order.placed", correlationid: FLOW },
      ]);
      await pause();
      await publish("payments", [
        {
          id: "fl-paid",
          source: "/payments",
          type: "payment.captured",
          correlationid: FLOW,
          causationid: "fl-placed",
        },
      ]);
      await pause();
      await publish("orders", [
        {
          id: "fl-shipped",
          source: "/shipping",
          type: "order.shipped",
          correlationid: FLOW,
          causationid: "fl-paid",
        },
      ]);
      await pause();
      await publish("orders", [
        {
          id: "fl-noted",
          source: "/checkout",
          type: "order.noted",
          correlationid: FLOW,
          causationid: "fl-placed",
        },
      ]);
    });

    it("opens from an event's link and shows the causation tree and the timeline", async () => {
      const { page: p, errors } = await page();
      await signIn(p, ADMIN);
      await p.goto(`${router.url}/ui/topics/orders`);
      await p.getByLabel("Correlation id").first().fill(FLOW);
      const list = p.getByRole("list", { name: "Events of this page" });
      await expect.poll(() => list.getByRole("listitem").count()).toBe(3);
      await list
        .getByRole("link", { name: `Open the flow ${FLOW}` })
        .first()
        .click();
      await p.getByRole("heading", { name: `Flow ${FLOW}` }).waitFor();
      await expect.poll(() => roots(p)).toEqual(["fl-placed"]);
      expect(await under(p, "fl-placed")).toEqual(["fl-paid", "fl-noted"]);
      expect(await under(p, "fl-paid")).toEqual(["fl-shipped"]);
      expect(await under(p, "fl-shipped")).toEqual([]);
      // Each step: its service and topic, the time since its cause and since the first event.
      const paid = p.locator('ul.tree li[data-event-id="fl-paid"] > .head');
      expect(await paid.textContent()).toMatch(
        /payment\.captured.*service \/payments.*topic payments #\d+.*\+\d+ ms after its cause.*\+\d+ ms since the first event/,
      );
      const sinceCause = Number(
        /\+(\d+) ms after its cause/.exec((await paid.textContent()) ?? "")?.[1],
      );
      expect(sinceCause).toBeGreaterThanOrEqual(20);
      // The timeline: every event in append order, across both topics and three services.
      const timeline = p.getByRole("list", { name: "Timeline, in append order" });
      expect(
        await timeline
          .getByRole("listitem")
          .evaluateAll((items) => items.map((li) => li.getAttribute("data-event-id"))),
      ).toEqual(["fl-placed", "fl-paid", "fl-shipped", "fl-noted"]);
      expect(await timeline.getByRole("listitem").nth(1).textContent()).toMatch(
        /payment\.captured \/payments on payments took \d+ ms/,
      );
      const services = p.getByRole("list", { name: "Services" });
      expect(await services.getByRole("listitem").allTextContents()).toEqual([
        " /checkout: 2 events",
        " /payments: 1 event",
        " /shipping: 1 event",
      ]);
      expect(await p.locator("#flow-hidden").count()).toBe(0);
      expect(await p.locator("#flow-truncated").count()).toBe(0);
      await shot(p, "flow");
      // A reload keeps the page: its path is answered with index.html.
      await p.reload();
      await p.getByRole("heading", { name: `Flow ${FLOW}` }).waitFor();
      await expect.poll(() => roots(p)).toEqual(["fl-placed"]);
      expect(unexpected(errors)).toEqual([]);
    });

    it("opens a flow from the header by keyboard, and fits a phone", async () => {
      const { page: p, errors } = await page({ width: 390, height: 844 });
      await signIn(p, ADMIN);
      await p.getByLabel("Find a flow").focus();
      await p.keyboard.type(FLOW);
      await p.keyboard.press("Enter");
      await p.getByRole("heading", { name: `Flow ${FLOW}` }).waitFor();
      expect(await p.evaluate<string>("document.activeElement.tagName")).toBe("H1");
      await expect.poll(() => roots(p)).toEqual(["fl-placed"]);
      // The event's JSON opens from the keyboard too.
      await p.locator('ul.tree li[data-event-id="fl-paid"] > details > summary').focus();
      await p.keyboard.press("Enter");
      await expect
        .poll(() => p.locator('ul.tree li[data-event-id="fl-paid"] > details pre').textContent())
        .toContain('"causationid": "fl-placed"');
      expect(await p.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
        390,
      );
      await shot(p, "flow-phone");
      expect(unexpected(errors)).toEqual([]);
    });

    it("shows a read:orders key the events it may read and how many it may not", async () => {
      const { page: p, errors } = await page();
      await signIn(p, readOrdersKey);
      await p.goto(`${router.url}/ui/flows/${FLOW}`);
      await p.getByRole("heading", { name: `Flow ${FLOW}` }).waitFor();
      await p.getByText("1 event on a topic your key cannot read").waitFor();
      // The payment is left out: the shipment it caused starts its own branch.
      await expect.poll(() => roots(p)).toEqual(["fl-placed", "fl-shipped"]);
      expect(await under(p, "fl-placed")).toEqual(["fl-noted"]);
      expect(await p.content()).not.toContain("payment.captured");
      expect(await p.getByRole("link", { name: "payments" }).count()).toBe(0);
      await shot(p, "flow-hidden");
      expect(unexpected(errors)).toEqual([]);
    });

    it("says when a flow has more events than it shows, and shows more on request", async () => {
      const big = "flow-big";
      const events = Array.from({ length: 1001 }, (_, i) => ({
        id: `big-${i}`,
        type: "payment.retried",
        correlationid: big,
        ...(i === 0 ? {} : { causationid: `big-${i - 1}` }),
      }));
      await publish("payments", events);
      const { page: p, errors } = await page();
      await signIn(p, ADMIN);
      await p.goto(`${router.url}/ui/flows/${big}`);
      await p.getByText("Only the first 1000 events are shown: the flow has more.").waitFor();
      await p.getByRole("button", { name: "Show up to 10,000 events" }).click();
      await p.getByText("1001 events shown").waitFor();
      expect(await p.locator("#flow-truncated").count()).toBe(0);
      // A chain deeper than the page nests continues flat, marked with its depth.
      expect(
        await p.locator('ul.tree li[data-event-id="big-1000"]').getAttribute("data-depth"),
      ).toBe("1000");
      expect(await p.locator('ul.tree li[data-event-id="big-1000"] .tag').textContent()).toBe(
        "depth 1000",
      );
      expect(unexpected(errors)).toEqual([]);
    });

    it("says so for a correlation id no event carries", async () => {
      const { page: p, errors } = await page();
      await signIn(p, ADMIN);
      await p.goto(`${router.url}/ui/flows/${encodeURIComponent("no such/flow.7")}`);
      await p.getByRole("heading", { name: "Flow no such/flow.7" }).waitFor();
      await p
        .getByText("No event carries this correlation id on a topic indexed by correlationid.")
        .waitFor();
      expect(unexpected(errors)).toEqual([]);
    });
  });

  describe("on a router without auth", () => {
    let open: TestRouter;
    beforeAll(async () => {
      open = await startTestRouter({ auth: false });
      const response = await fetch(`${open.url}/v1/topics/local`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(201);
    });
    afterAll(async () => open.dispose());

    it("opens the overview with no sign-in (there is no session to open)", async () => {
      const { page: p, errors } = await page();
      await p.goto(`${open.url}/ui/`);
      await p.getByRole("heading", { name: "Overview" }).waitFor();
      await p.getByText("This router runs without auth").waitFor();
      await p.getByRole("link", { name: "local", exact: true }).click();
      await p.getByRole("heading", { name: "Topic local" }).waitFor();
      expect(await p.getByRole("button", { name: "Sign out" }).count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    });
  });

  describe("a page of another origin", () => {
    let evil: Server;
    let evilUrl: string;
    beforeAll(async () => {
      // Same host, other port: the same site, so SameSite=Strict still sends the cookie;
      // only the Origin and CSRF checks stand between this page and the session.
      evil = createServer((_request, response) => {
        response.setHeader("content-type", "text/html");
        response.end("<!doctype html><title>other</title><p>other origin</p>");
      });
      await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
      evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    });
    afterAll(async () => new Promise<void>((resolve) => evil.close(() => resolve())));

    it("cannot read, act or stream with the session although its cookie is sent", async () => {
      const { page: p } = await page();
      await signIn(p, ADMIN);
      await p.goto(evilUrl);
      const target = router.url;
      const seen: Response[] = [];
      p.on("response", (r) => {
        if (r.url().startsWith(target)) seen.push(r);
      });
      const outcome = await p.evaluate(async (router) => {
        const results: string[] = [];
        // no-cors: the answer is opaque to the page but visible to the test, which reads
        // the router's status for it.
        await fetch(`${router}/v1/topics`, { mode: "no-cors", credentials: "include" }).then(
          () => results.push("read sent"),
          () => results.push("read blocked"),
        );
        await fetch(`${router}/v1/subscriptions/orders-pull/redrive`, {
          method: "POST",
          mode: "no-cors",
          credentials: "include",
          headers: { "content-type": "text/plain" },
          body: "{}",
        }).then(
          () => results.push("act sent"),
          () => results.push("act blocked"),
        );
        const ws = new WebSocket(
          `${router.replace("http", "ws")}/v1/subscriptions/orders-pull/stream`,
        );
        results.push(
          await new Promise<string>((resolve) => {
            ws.onopen = () => resolve("stream opened");
            ws.onclose = () => resolve("stream refused");
            setTimeout(() => resolve("stream pending"), 3000);
          }),
        );
        return results;
      }, target);
      expect(outcome).toEqual(["read sent", "act sent", "stream refused"]);
      const read = seen.find((r) => r.url() === `${target}/v1/topics`);
      const act = seen.find((r) => r.url().endsWith("/redrive"));
      for (const response of [read, act]) {
        if (response === undefined) throw new Error("the browser sent no such request");
        // 403, not 401: the browser did send the session cookie (without a credential the
        // router answers 401), and the Origin check refused it (a no-cors GET carries no
        // Origin, and its Sec-Fetch-Site is same-site, not same-origin).
        expect(response.status(), response.url()).toBe(403);
      }
      // The dashboard itself still works with the same session.
      await p.goto(`${router.url}/ui/`);
      await p.getByRole("heading", { name: "Overview" }).waitFor();
    });
  });
});
