/** HTTP calls for the crash test, where "no answer" is an expected outcome, not an error. */

export type Outcome =
  | { readonly kind: "answered"; readonly status: number; readonly body: unknown }
  | { readonly kind: "lost"; readonly error: string };

const TIMEOUT_MS = 10_000;

/**
 * One request. A connection refused or reset, a timeout, or a 5xx is `lost`: the router may
 * or may not have acted on it (it was killed, or is starting).
 */
export async function call(
  url: string,
  method: string,
  contentType: string,
  body?: unknown,
): Promise<Outcome> {
  try {
    const response = await fetch(url, {
      method,
      headers: { "content-type": contentType },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status >= 500)
      return { kind: "lost", error: `HTTP ${response.status}: ${text.slice(0, 200)}` };
    return { kind: "answered", status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { kind: "lost", error: `${String(error)}${cause}` };
  }
}

/** A request that must be answered with one of `statuses`: retried while the answer is lost. */
export async function callUntilAnswered(
  url: string,
  method: string,
  body: unknown,
  statuses: readonly number[],
  maxMs = 30_000,
): Promise<unknown> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const outcome = await call(url, method, "application/json", body);
    if (outcome.kind === "answered") {
      if (!statuses.includes(outcome.status))
        throw new Error(`${method} ${url} → ${outcome.status} ${JSON.stringify(outcome.body)}`);
      return outcome.body;
    }
    if (Date.now() > deadline)
      throw new Error(`${method} ${url}: no answer for ${maxMs} ms (${outcome.error})`);
    await pause(RETRY_PAUSE_MS);
  }
}

/** Between retries while the router is down: a load loop's pace, not a wait for a condition. */
export const RETRY_PAUSE_MS = 20;

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
