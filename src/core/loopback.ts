import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * Loopback as the API defines it: 127.0.0.0/8, `::1` and the name `localhost`. Used for the
 * start-up rules (a bind without auth must be loopback) and the DNS-rebinding check (a
 * request's `Host` must be a loopback name).
 */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for `localhost`, any 127.x.y.z and any spelling of `::1` or its IPv4-mapped forms (brackets allowed). */
export function isLoopbackName(name: string): boolean {
  const host = name.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  if (isIPv4(host)) return LOOPBACK.check(host, "ipv4");
  return isIPv6(host) && LOOPBACK.check(host, "ipv6");
}

/** The host part of a `Host` header (`[::1]:8420` → `[::1]`, `localhost:80` → `localhost`). */
export function hostOfHeader(header: string): string {
  if (header.startsWith("[")) {
    const end = header.indexOf("]");
    return end === -1 ? header : header.slice(0, end + 1);
  }
  const colon = header.lastIndexOf(":");
  return colon === -1 ? header : header.slice(0, colon);
}

/** True for the any-address binds (`0.0.0.0`, `::` in any spelling): no one URL names the router. */
export function isWildcardAddress(name: string): boolean {
  const host = name.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (host === "" || host === "0.0.0.0") return true;
  return isIPv6(host) && /^[0:]+$/.test(host);
}
