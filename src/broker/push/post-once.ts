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
  readonly timeoutMs: number;
  readonly keepBytes: number;
  readonly drainBytes: number;
  /** Aborts the request; the promise then rejects with the abort reason. */
  readonly signal: AbortSignal;
}

export interface PostAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: string;
}

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

export function postOnce(dispatcher: Dispatcher, options: PostOptions): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let status = 0;
    let retryAfter: string | null = null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let seen = 0;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      if (error !== null) reject(error);
      else resolve({ status, retryAfter, body: Buffer.concat(kept).toString("utf8") });
    };
    let controller: Controller | null = null;
    const onAbort = (): void => {
      const reason =
        options.signal.reason instanceof Error ? options.signal.reason : new Error("aborted");
      controller?.abort(reason);
      finish(reason);
    };
    const handler: Handler = {
      onRequestStart(c) {
        controller = c;
        if (options.signal.aborted) onAbort();
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
    options.signal.addEventListener("abort", onAbort, { once: true });
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
