/**
 * Dashboard sessions against real routers with auth: the cookie's attributes (plain and
 * TLS), the CSRF and Origin checks, scopes through a session, sign-out, revocation (HTTP and
 * an open stream), and the 12 h / 1 h idle ends, shortened by `sessionTimes`. A stream opened
 * with the cookie closes with 4401 when its session ends by any of these.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { generateKey } from "../../src/broker/keys.js";
import { eventually } from "../support/eventually.js";
import { startTestRouter, type TestRouter } from "../support/router.js";
import { startRouterProcess } from "../support/router-process.js";
import { makeCertificates } from "../support/tls.js";

const ADMIN = generateKey().key;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
  readonly headers: Headers;
}

async function call(
  router: TestRouter,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${router.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  return { status: response.status, body: parsed, text, headers: response.headers };
}

async function createKey(router: TestRouter, scopes: readonly string[]) {
  const answer = await call(
    router,
    "POST",
    "/v1/keys",
    { authorization: `Bearer ${ADMIN}` },
    { name: "dash", scopes },
  );
  expect(answer.status).toBe(201);
  const created = answer.body as { id: string; key: string };
  await eventually(async () =>
    expect(
      (await call(router, "GET", "/v1/keys/self", { authorization: `Bearer ${created.key}` }))
        .status,
    ).toBe(200),
  );
  return created;
}

interface Signed {
  readonly cookie: string;
  readonly setCookie: string;
  readonly csrf: string;
  readonly answer: Answer;
}

async function signIn(router: TestRouter, key: string): Promise<Signed> {
  const answer = await call(router, "POST", "/ui/session", { origin: router.url }, { key });
  expect(answer.status, answer.text).toBe(200);
  const setCookie = answer.headers.get("set-cookie") ?? "";
  return {
    cookie: setCookie.split(";", 1)[0] ?? "",
    setCookie,
    csrf: String(answer.body.csrf),
    answer,
  };
}

/** What the dashboard sends: the cookie, its own Origin and the CSRF token. */
const browser = (router: TestRouter, s: Signed) => ({
  cookie: s.cookie,
  origin: router.url,
  "x-switchyard-csrf": s.csrf,
});

interface OpenStream {
  readonly ws: WebSocket;
  /** The close code, and when it came (ms since the stream opened). */
  readonly closed: Promise<{ code: number; afterMs: number }>;
}

/** A stream of `sub` opened with the session's cookie (or a Bearer key), as the dashboard would. */
async function openStream(
  router: TestRouter,
  sub: string,
  headers: Record<string, string>,
): Promise<OpenStream> {
  const url = `${router.url.replace(/^http/, "ws")}/v1/subscriptions/${sub}/stream`;
  const ws = new WebSocket(url, { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade ${res.statusCode}`)));
  });
  const openedAt = Date.now();
  const closed = new Promise<{ code: number; afterMs: number }>((resolve) =>
    ws.once("close", (code) => resolve({ code, afterMs: Date.now() - openedAt })),
  );
  return { ws, closed };
}

const cookieStream = (router: TestRouter, sub: string, s: Signed) =>
  openStream(router, sub, { cookie: s.cookie, origin: router.url });

async function topicWithSubscription(router: TestRouter, topic: string, sub: string) {
  const admin = { authorization: `Bearer ${ADMIN}` };
  expect((await call(router, "PUT", `/v1/topics/${topic}`, admin, {})).status).toBe(201);
  const put = await call(router, "PUT", `/v1/subscriptions/${sub}`, admin, { topic });
  expect(put.status).toBe(201);
}

describe("dashboard sessions", () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({ auth: true, adminKey: ADMIN });
  }, 30_000);
  afterAll(async () => {
    await router?.dispose();
  });

  it("sign in sets an HttpOnly, SameSite=Strict cookie named for this router", async () => {
    const key = await createKey(router, ["read:ui.*"]);
    const s = await signIn(router, key.key);
    expect(s.setCookie).toMatch(
      new RegExp(`^switchyard_session_${router.port}=[A-Za-z0-9_-]{43};`),
    );
    expect(s.setCookie).toContain("HttpOnly");
    expect(s.setCookie).toContain("SameSite=Strict");
    expect(s.setCookie).toContain("Path=/");
    expect(s.setCookie).not.toContain("Secure");
    expect(s.answer.body.key).toEqual({ id: key.id, name: "dash", scopes: ["read:ui.*"] });
    expect(Date.parse(String(s.answer.body.expiresAt)) - Date.now()).toBeGreaterThan(
      11 * 3_600_000,
    );
    const id = s.cookie.split("=")[1] ?? "";
    expect(s.answer.text).not.toContain(id);
    expect(s.answer.text).not.toContain(key.key.slice(-43));
    const again = await call(router, "GET", "/ui/session", {
      cookie: s.cookie,
      origin: router.url,
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(s.answer.body);
    expect(again.text).not.toContain(id);
  });

  it("a bad key gets 401; a foreign Origin 403 csrf_failed; without a body 400", async () => {
    const bad = await call(router, "POST", "/ui/session", {}, { key: generateKey().key });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe("unauthenticated");
    expect(bad.headers.get("set-cookie")).toBeNull();
    const key = await createKey(router, ["read:ui.*"]);
    const foreign = await call(
      router,
      "POST",
      "/ui/session",
      { origin: "https://evil.example" },
      { key: key.key },
    );
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe("csrf_failed");
    expect(JSON.stringify(foreign.body)).not.toContain(key.key);
    expect((await call(router, "POST", "/ui/session", {}, {})).status).toBe(400);
  });

  it("cookie requests need the CSRF header and the router's Origin, then act as the key", async () => {
    await call(router, "PUT", "/v1/topics/ui.orders", { authorization: `Bearer ${ADMIN}` }, {});
    const key = await createKey(router, ["read:ui.*"]);
    const s = await signIn(router, key.key);
    const noCsrf = await call(router, "GET", "/v1/topics/ui.orders", {
      cookie: s.cookie,
      origin: router.url,
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.code).toBe("csrf_failed");
    const wrongCsrf = await call(router, "GET", "/v1/topics/ui.orders", {
      ...browser(router, s),
      "x-switchyard-csrf": "x".repeat(43),
    });
    expect(wrongCsrf.body.code).toBe("csrf_failed");
    for (const origin of ["https://evil.example", undefined]) {
      const headers: Record<string, string> = { cookie: s.cookie, "x-switchyard-csrf": s.csrf };
      if (origin !== undefined) headers.origin = origin;
      const answer = await call(router, "GET", "/v1/topics/ui.orders", headers);
      expect(answer.status, String(origin)).toBe(403);
      expect(answer.body.code).toBe("csrf_failed");
    }
    const allowed = await call(router, "GET", "/v1/topics/ui.orders", browser(router, s));
    expect(allowed.status, allowed.text).toBe(200);
    // A browser's same-origin GET has no Origin but Sec-Fetch-Site; not so a write.
    const sameSite = {
      cookie: s.cookie,
      "x-switchyard-csrf": s.csrf,
      "sec-fetch-site": "same-origin",
    };
    expect((await call(router, "GET", "/v1/topics/ui.orders", sameSite)).status).toBe(200);
    const crossSite = { ...sameSite, "sec-fetch-site": "cross-site" };
    expect((await call(router, "GET", "/v1/topics/ui.orders", crossSite)).body.code).toBe(
      "csrf_failed",
    );
    const write = await call(router, "PUT", "/v1/topics/ui.orders", sameSite, {});
    expect(write.body.code).toBe("csrf_failed");
    const beyond = await call(router, "PUT", "/v1/topics/ui.other", browser(router, s), {});
    expect(beyond.status).toBe(403);
    expect(beyond.body.code).toBe("forbidden");
    // A Bearer key is not a session.
    const bearer = await call(router, "GET", "/ui/session", { authorization: `Bearer ${key.key}` });
    expect(bearer.status).toBe(401);
    // Another router's cookie name is not this one's.
    const other = await call(router, "GET", "/ui/session", {
      cookie: `switchyard_session_1${s.cookie.slice(s.cookie.indexOf("="))}`,
      origin: router.url,
    });
    expect(other.status).toBe(401);
  });

  it("DELETE /ui/session ends the session and clears the cookie", async () => {
    const key = await createKey(router, ["read:ui.*"]);
    const s = await signIn(router, key.key);
    const withoutCsrf = await call(router, "DELETE", "/ui/session", {
      cookie: s.cookie,
      origin: router.url,
    });
    expect(withoutCsrf.status).toBe(403);
    const ended = await call(router, "DELETE", "/ui/session", browser(router, s));
    expect(ended.status).toBe(204);
    expect(ended.headers.get("set-cookie")).toMatch(/^switchyard_session_\d+=; Max-Age=0;/);
    const after = await call(router, "GET", "/ui/session", browser(router, s));
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("unauthenticated");
  });

  it("DELETE /ui/session closes the session's open streams with 4401, not the key's", async () => {
    await topicWithSubscription(router, "ui.out", "ui-out");
    const key = await createKey(router, ["read:ui.*", "consume:ui-out"]);
    const s = await signIn(router, key.key);
    const other = await signIn(router, key.key);
    const stream = await cookieStream(router, "ui-out", s);
    const otherStream = await cookieStream(router, "ui-out", other);
    const bearer = await openStream(router, "ui-out", { authorization: `Bearer ${key.key}` });
    const endedAt = Date.now();
    expect((await call(router, "DELETE", "/ui/session", browser(router, s))).status).toBe(204);
    expect((await stream.closed).code).toBe(4401);
    expect(Date.now() - endedAt).toBeLessThan(1_000);
    // Another session of the same key, and the key itself, go on.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const open of [otherStream, bearer]) expect(open.ws.readyState).toBe(WebSocket.OPEN);
    for (const open of [otherStream, bearer]) open.ws.close();
  });

  it("revoking the key ends its sessions within 1 s, open streams with 4401", async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    await call(router, "PUT", "/v1/topics/ui.stream", admin, {});
    await call(router, "PUT", "/v1/subscriptions/ui-sub", admin, { topic: "ui.stream" });
    const key = await createKey(router, ["read:ui.*", "consume:ui-sub"]);
    const s = await signIn(router, key.key);
    const wsUrl = `${router.url.replace(/^http/, "ws")}/v1/subscriptions/ui-sub/stream`;
    const foreign = new WebSocket(wsUrl, {
      headers: { cookie: s.cookie, origin: "https://evil.example" },
    });
    const refused = await new Promise<number>((resolve) => {
      foreign.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      foreign.on("open", () => resolve(101));
    });
    expect(refused).toBe(403);
    const ws = new WebSocket(wsUrl, { headers: { cookie: s.cookie, origin: router.url } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade ${res.statusCode}`)));
    });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const revokedAt = Date.now();
    expect((await call(router, "DELETE", `/v1/keys/${key.id}`, admin)).status).toBe(204);
    await eventually(
      async () =>
        expect((await call(router, "GET", "/ui/session", browser(router, s))).status).toBe(401),
      { timeoutMs: 1_000 },
    );
    expect(await closed).toBe(4401);
    expect(Date.now() - revokedAt).toBeLessThan(2_000);
  });
});

describe("dashboard session lifetimes", () => {
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({
      auth: true,
      adminKey: ADMIN,
      sessionTimes: { lifetimeMs: 6_000, idleMs: 2_000, touchMs: 100 },
    });
    await topicWithSubscription(router, "ui.life", "ui-life");
  }, 30_000);
  afterAll(async () => {
    await router?.dispose();
  });

  it("a session in use outlives the idle time, then ends at its lifetime, its stream too", async () => {
    const key = await createKey(router, ["read:ui.*", "consume:ui-life"]);
    const s = await signIn(router, key.key);
    const started = Date.now();
    const stream = await cookieStream(router, "ui-life", s);
    while (Date.now() - started < 3_000) {
      expect((await call(router, "GET", "/ui/session", browser(router, s))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(stream.ws.readyState).toBe(WebSocket.OPEN);
    await eventually(
      async () =>
        expect((await call(router, "GET", "/ui/session", browser(router, s))).status).toBe(401),
      { timeoutMs: 8_000, intervalMs: 200 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_500);
    const closed = await stream.closed;
    expect(closed.code).toBe(4401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_500);
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 20_000);

  it("an idle session ends; a stream is not activity, and closes with 4401", async () => {
    const key = await createKey(router, ["read:ui.*", "consume:ui-life"]);
    const s = await signIn(router, key.key);
    const started = Date.now();
    const stream = await cookieStream(router, "ui-life", s);
    const closed = await stream.closed;
    expect(closed.code).toBe(4401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(Date.now() - started).toBeLessThan(4_000);
    const idle = await call(router, "GET", "/ui/session", browser(router, s));
    expect(idle.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(6_000);
  }, 20_000);
});

describe("dashboard sessions under TLS", () => {
  const certs = makeCertificates();
  let router: TestRouter;
  beforeAll(async () => {
    router = await startTestRouter({
      auth: true,
      adminKey: ADMIN,
      tls: { cert: certs.cert, key: certs.key },
    });
  }, 30_000);
  afterAll(async () => {
    await router?.dispose();
    certs.dispose();
  });

  it("the cookie is __Host- prefixed and Secure", async () => {
    const body = JSON.stringify({ key: ADMIN });
    const setCookie = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `${router.url}/ui/session`,
        {
          method: "POST",
          ca: certs.ca,
          headers: { "content-type": "application/json", origin: router.url },
        },
        (res) => {
          res.resume();
          expect(res.statusCode).toBe(200);
          resolve(String(res.headers["set-cookie"]?.[0] ?? ""));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(setCookie).toMatch(new RegExp(`^__Host-switchyard_session_${router.port}=`));
    expect(setCookie).toContain("; Secure");
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Domain");
  });
});

describe("dashboard sessions without auth, and the logs", () => {
  it("without auth POST /ui/session answers 409 conflict and sets no cookie", async () => {
    const open = await startTestRouter();
    try {
      const answer = await call(open, "POST", "/ui/session", {}, { key: ADMIN });
      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe("conflict");
      expect(answer.headers.get("set-cookie")).toBeNull();
      expect((await call(open, "GET", "/ui/session", {})).status).toBe(401);
    } finally {
      await open.dispose();
    }
  });

  it("no log line at debug level carries the session id, its CSRF token or the key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "switchyard-ui-logs-"));
    const router = await startRouterProcess({
      dataDir,
      auth: true,
      args: ["--log-level", "debug"],
      env: { SWITCHYARD_ADMIN_KEY: ADMIN },
    });
    try {
      const target = { url: router.url } as TestRouter;
      const s = await signIn(target, ADMIN);
      const id = s.cookie.split("=")[1] ?? "";
      expect((await call(target, "GET", "/v1/topics", browser(target, s))).status).toBe(200);
      expect((await call(target, "GET", "/v1/topics", { cookie: s.cookie })).status).toBe(403);
      expect((await call(target, "DELETE", "/ui/session", browser(target, s))).status).toBe(204);
      expect((await call(target, "GET", "/ui/session", browser(target, s))).status).toBe(401);
      expect(router.output).not.toContain(id);
      expect(router.output).not.toContain(s.csrf);
      expect(router.output).not.toContain(ADMIN.slice(-43));
    } finally {
      await router.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
