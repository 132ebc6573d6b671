/**
 * The dashboard's only way to the router: the public HTTP API, authenticated by the
 * session cookie (HttpOnly, so the page never holds the key) plus the CSRF token, which
 * lives in memory only and is fetched again with GET /ui/session after a reload.
 */

export interface SessionKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
}

export interface Session {
  readonly csrf: string;
  readonly expiresAt: string;
  readonly key: SessionKey;
}

export interface Problem {
  readonly code?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly status?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

export const CSRF_HEADER = "X-Switchyard-CSRF";

let csrf: string | undefined;
let onSignedOut: () => void = () => {};

/** Called when any answer says the session is gone (401), so the page shows the login. */
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (csrf !== undefined) headers[CSRF_HEADER] = csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const value = await parse(response);
  if (!response.ok) {
    const problem = typeof value === "object" && value !== null ? (value as Problem) : {};
    if (response.status === 401 && path !== "/ui/session") {
      csrf = undefined;
      onSignedOut();
    }
    throw new ApiError(response.status, problem);
  }
  return value as T;
}

export async function signIn(key: string): Promise<Session> {
  const session = await call<Session>("POST", "/ui/session", { key });
  csrf = session.csrf;
  return session;
}

/** The session the cookie still holds (after a reload), or undefined. */
export async function resume(): Promise<Session | undefined> {
  try {
    const session = await call<Session>("GET", "/ui/session");
    csrf = session.csrf;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * Whether the router runs without auth: then `/v1/info` answers its engine to anyone (with
 * auth, a caller without a key learns the version only) and there is no session to open.
 */
export async function runsWithoutAuth(): Promise<boolean> {
  const info = await call<{ engine?: string }>("GET", "/v1/info");
  return info.engine !== undefined;
}

export async function signOut(): Promise<void> {
  try {
    await call<undefined>("DELETE", "/ui/session");
  } finally {
    csrf = undefined;
  }
}

export const enc = encodeURIComponent;

export interface TopicStats {
  readonly events: number;
  readonly bytes: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly indexes?: unknown;
}

export interface Topic {
  readonly name: string;
  readonly retention: { maxAgeMs?: number; maxBytes?: number; maxEvents?: number };
  readonly dedupeWindowMs: number;
  readonly maxEventBytes: number;
  readonly owner: "router" | null;
  readonly schemas: { mode?: string; allowUnregisteredTypes?: boolean };
  readonly indexes?: readonly string[];
  readonly stats?: TopicStats;
}

export interface SubscriptionStats {
  readonly position?: number;
  readonly lag: number;
  readonly inFlight: number;
  readonly delivered: number;
  readonly acked: number;
  readonly deadLettered: number;
  readonly oldestUnackedAgeMs: number;
}

export interface Push {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly mode?: string;
  readonly secretCount?: number;
  readonly headerNames?: readonly string[];
}

export interface Subscription {
  readonly name: string;
  readonly topic: string;
  readonly filter: unknown;
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  readonly backoff: unknown;
  readonly deadLetterTopic: string;
  readonly ordering: string;
  readonly maxInFlight: number;
  readonly push: Push | null;
  readonly stats?: SubscriptionStats;
  readonly state?: "healthy" | "degraded" | "paused";
  readonly health?: { circuit: string; consecutiveFailures: number; pausedReason?: string };
}

export interface StoredEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: string;
  readonly offset: number;
  readonly topic: string;
  readonly appendedat: string;
  readonly time?: string;
  readonly subject?: string;
  readonly partitionkey?: string;
  readonly correlationid?: string;
  readonly data?: unknown;
  readonly [attribute: string]: unknown;
}

export interface EventPage {
  readonly events: readonly StoredEvent[];
  readonly next: number;
}

export interface RedriveAnswer {
  readonly redrive?: string;
  readonly matched: number;
  readonly keys: number;
}

export interface RedriveJob {
  readonly state: "running" | "done" | "failed";
  readonly matched: number;
  readonly moved: number;
}
