import type { Dispatcher } from "undici";

/**
 * One POST through undici's low-level `dispatch`, without the stream machinery of
 * `request()`: the push hot path builds no Readable per response. Keeps the first
 * `keepBytes` of the body; past `drainBytes` it answers with what it has and cuts the
 * connection instead of reading on.
 */

export interface PostOptions {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
  /** The whole request, from dispatch to the end of the body; then it rejects with `RequestTimeout`. */
  readonly timeoutMs: number;
  readonly keepBytes: number;
  readonly drainBytes: number;
  /** Aborts the request; the promise then rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

export interface PostAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: string;
}

/** The request ran past its `timeoutMs`. */
export class RequestTimeout extends Error {
  constructor() {
    super("request timeout");
    this.name = "RequestTimeout";
  }
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/**
 * The timer and the caller's signal act on undici's controller directly: no AbortController
 * of its own per request, one listener on the caller's signal at most.
 */
export function postOnce(dispatcher: Dispatcher, options: PostOptions): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    let settled = false;
    let status = 0;
    let retryAfter: string | null = null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let seen = 0;
    let controller: Controller | null = null;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error !== null) reject(error);
      else resolve({ status, retryAfter, body: Buffer.concat(kept).toString("utf8") });
    };
    const cut = (reason: Error): void => {
      controller?.abort(reason);
      finish(reason);
    };
    const onAbort = (): void =>
      cut(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    const timer = setTimeout(() => cut(new RequestTimeout()), options.timeoutMs);
    const handler: Handler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error("aborted"));
        else if (signal?.aborted) onAbort();
      },
      onResponseStart(_c, statusCode, headers) {
        status = statusCode;
        const value = headers["retry-after"];
        retryAfter = typeof value === "string" ? value : (value?.[0] ?? null);
      },
      onResponseData(c, chunk) {
        if (keptBytes < options.keepBytes) {
          const part = chunk.subarray(0, options.keepBytes - keptBytes);
          kept.push(part);
          keptBytes += part.length;
        }
        seen += chunk.length;
        if (seen > options.drainBytes) {
          finish(null); // the answer is known; the rest of the body is not worth reading
          c.abort(new Error("response body too large"));
        }
      },
      onResponseEnd() {
        finish(null);
      },
      onResponseError(_c, error) {
        finish(error);
      },
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    dispatcher.dispatch(
      {
        method: "POST",
        path: options.path,
        headers: options.headers,
        body: options.body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      },
      handler,
    );
  });
}
