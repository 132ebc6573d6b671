/**
 * Headers a subscription's `push.headers` may not set: hop-by-hop and framing headers (which
 * could smuggle a second request), and the ones Switchyard writes itself (content type,
 * signature, CloudEvents attributes), so the receiver can trust them.
 */
const RESERVED = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "proxy-authorization",
  "proxy-connection",
]);
const RESERVED_PREFIXES = ["ce-", "webhook-", "proxy-"];

/** Why a custom push header name is not allowed, or null when it is. */
export function reservedHeaderError(name: string): string | null {
  const lower = name.toLowerCase();
  if (RESERVED.has(lower)) return `${lower} is set by Switchyard or the HTTP client`;
  const prefix = RESERVED_PREFIXES.find((p) => lower.startsWith(p));
  return prefix === undefined ? null : `${prefix}* headers are set by Switchyard`;
}
