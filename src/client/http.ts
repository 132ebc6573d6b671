import { clientError, isProblem, SwitchyardClientError } from "./errors.js";

/** The part of `fetch` the SDK uses; the global `fetch` fits, and so do test doubles. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  /** Path below the router's URL, segments already encoded (see `segment`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** A JSON body (sent as `application/json`). */
  readonly json?: unknown;
  /** A body already serialised, with its content type. */
  readonly raw?: { readonly text: string; readonly contentType: string };
  /** Request-specific headers (a batch's `traceparent`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the transport's request timeout (a long pull needs longer). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse<T> {
  readonly status: number;
  readonly body: T;
}

export interface HttpTransportOptions {
  readonly url: string;
  readonly fetch: Fetch;
  readonly requestTimeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** Percent-encodes one path segment (topic and subscription names are safe, but be exact). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// JSON answers are parsed; a plain-text one (`/healthz` may say "ok") is returned as text.
function bodyOf(response: Response, text: string, what: string): unknown {
  if (text === "") return undefined;
  const body = parseJson(text);
  if (body !== undefined) return body;
  if ((response.headers.get("content-type") ?? "").includes("json"))
    throw clientError("unexpected_response", `${what}: the answer is not valid JSON`);
  return text;
}

/** Turns a non-2xx answer into the router's problem, or `unexpected_response` when it sent none. */
function errorFrom(response: Response, text: string): SwitchyardClientError {
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  const body = parseJson(text);
  const options = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (isProblem(body)) return new SwitchyardClientError(body, options);
  return new SwitchyardClientError(
    {
      status: response.status,
      code: "unexpected_response",
      title: "Unexpected response from the router",
      detail: `HTTP ${response.status} without a problem body${text ? `: ${text.slice(0, 200)}` : ""}`,
    },
    options,
  );
}

/** Sends JSON requests to one router and maps every failure to a `SwitchyardClientError`. */
export class HttpTransport {
  readonly baseUrl: string;
  readonly #options: HttpTransportOptions;

  constructor(options: HttpTransportOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.#options = options;
  }

  url(path: string, query: Readonly<Record<string, QueryValue>> = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) params.set(name, String(value));
    const search = params.size > 0 ? `?${params}` : "";
    return `${this.baseUrl}${path}${search}`;
  }

  async request<T>(request: HttpRequest): Promise<HttpResponse<T>> {
    const timeoutMs = request.timeoutMs ?? this.#options.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    const url = this.url(request.path, request.query);
    let response: Response;
    let text: string;
    try {
      response = await this.#options.fetch(url, { ...this.#init(request), signal });
      text = await response.text();
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      const why = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : describeNetworkError(error);
      throw clientError("unreachable", `${request.method} ${url}: ${why}`, { cause: error });
    }
    if (!response.ok) throw errorFrom(response, text);
    return {
      status: response.status,
      body: bodyOf(response, text, `${request.method} ${url}`) as T,
    };
  }

  #init(request: HttpRequest): RequestInit {
    const headers: Record<string, string> = {
      accept: "application/json",
      ...this.#options.headers,
      ...request.headers,
    };
    let body: string | undefined;
    if (request.raw) {
      headers["content-type"] = request.raw.contentType;
      body = request.raw.text;
    } else if (request.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(request.json);
    }
    return body === undefined
      ? { method: request.method, headers }
      : { method: request.method, headers, body };
  }
}

/** `fetch failed` says nothing; the cause (ECONNREFUSED, ENOTFOUND, ...) says what happened. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === "string" ? `${code} (${cause.message})` : cause.message;
  }
  return error.message;
}
