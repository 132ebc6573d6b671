/**
 * An in-process router for end-to-end tests: real HTTP on a free 127.0.0.1 port, a real
 * SQLite store in a fresh temp dir, and a tiny JSON client over the global `fetch`.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type Router, type RouterOptions, startRouter } from "../../src/index.js";

export interface TestRouter extends Router {
  readonly dataDir: string;
  /** Closes the router and removes its data dir. */
  dispose(): Promise<void>;
}

export async function startTestRouter(options: Partial<RouterOptions> = {}): Promise<TestRouter> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "switchyard-e2e-"));
  const router = await startRouter({ port: 0, logLevel: "silent", ...options, dataDir });
  return {
    url: router.url,
    port: router.port,
    dataDir,
    close: () => router.close(),
    async dispose() {
      await router.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One router for a whole test file: started in beforeAll, disposed in afterAll. Its fields
 * are read lazily, so tests use it like a started router.
 */
export function routerPerFile(options: Partial<RouterOptions> = {}): TestRouter {
  let started: TestRouter | undefined;
  const router = (): TestRouter => {
    if (started === undefined) throw new Error("the file's router is used before beforeAll");
    return started;
  };
  beforeAll(async () => {
    started = await startTestRouter(options);
  });
  afterAll(async () => {
    await started?.dispose();
  });
  return {
    get url() {
      return router().url;
    },
    get port() {
      return router().port;
    },
    get dataDir() {
      return router().dataDir;
    },
    close: () => router().close(),
    dispose: () => router().dispose(),
  };
}

let counter = 0;
/** A name unique to this test run: `prefix-<n>-<random>`. */
export function uniqueName(prefix = "t"): string {
  counter++;
  return `${prefix}-${counter}-${randomBytes(3).toString("hex")}`;
}

export interface JsonResponse<T = JsonBody> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

// Tests read answers loosely; assertions pin the shape.
// biome-ignore lint/suspicious/noExplicitAny: test-side JSON access
export type JsonBody = any;

export interface RequestOptions {
  readonly body?: unknown;
  /** A raw body, sent as-is (overrides `body`). */
  readonly raw?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** A JSON client for one router; `baseUrl` may be read lazily (a router started in beforeAll). */
export function api(baseUrl: string | (() => string)) {
  const base = typeof baseUrl === "string" ? () => baseUrl : baseUrl;
  async function call(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<JsonResponse> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined = options.raw;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (options.signal !== undefined) init.signal = options.signal;
    const res = await fetch(base() + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }
  return {
    call,
    get: (path: string, options?: RequestOptions) => call("GET", path, options),
    put: (path: string, body?: unknown, options?: RequestOptions) =>
      call("PUT", path, { ...options, body }),
    post: (path: string, body?: unknown, options?: RequestOptions) =>
      call("POST", path, { ...options, body }),
    del: (path: string, options?: RequestOptions) => call("DELETE", path, options),
    /** Publishes structured events: one object, or an array as a batch. */
    publish: (topic: string, events: unknown) =>
      call("POST", `/v1/topics/${topic}/events`, {
        raw: JSON.stringify(events),
        headers: {
          "content-type": Array.isArray(events)
            ? "application/cloudevents-batch+json"
            : "application/cloudevents+json",
        },
      }),
  };
}

export type Api = ReturnType<typeof api>;

/** A minimal valid CloudEvent. */
export function event(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: uniqueName("ev"),
    source: "/test",
    type: "test.happened",
    data: { n: 1 },
    ...extra,
  };
}

/** Asserts a problem+json answer with `status`, `code` and (when given) an error at `pointer`. */
export function expectProblem(
  res: JsonResponse,
  status: number,
  code: string,
  pointer?: string,
): void {
  const where = `${res.status} ${res.text.slice(0, 500)}`;
  if (res.status !== status) throw new Error(`expected status ${status}, got ${where}`);
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json"))
    throw new Error(`expected problem+json, got ${type}: ${where}`);
  const p = res.body;
  if (p?.code !== code) throw new Error(`expected code ${code}, got ${where}`);
  if (
    p.status !== status ||
    typeof p.type !== "string" ||
    typeof p.title !== "string" ||
    typeof p.detail !== "string"
  )
    throw new Error(`incomplete problem: ${where}`);
  if (!Array.isArray(p.errors)) throw new Error(`problem without errors[]: ${where}`);
  if (pointer !== undefined && !p.errors.some((e: { pointer?: string }) => e.pointer === pointer))
    throw new Error(`expected an error at ${JSON.stringify(pointer)}, got ${where}`);
}
