import { isIPv4, isIPv6 } from "node:net";

/**
 * Classifies IP addresses for the SSRF guard. Works on bytes, never on spellings, so every
 * textual form of one address (mapped, compressed, zero-padded) lands in the same range.
 */

/** Why an address may not receive webhooks; null for an ordinary public address. */
export type AddressClass =
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "shared-address-space"
  | "multicast"
  | "reserved"
  | "cloud-metadata";

interface Range {
  readonly bytes: readonly number[];
  readonly bits: number;
  readonly class: AddressClass;
}

function v4Range(cidr: string, cls: AddressClass): Range {
  const [address = "", bits = "32"] = cidr.split("/");
  return { bytes: address.split(".").map(Number), bits: Number(bits), class: cls };
}

function v6Range(cidr: string, cls: AddressClass): Range {
  const [address = "", bits = "128"] = cidr.split("/");
  return { bytes: [...(parseIPv6(address) ?? [])], bits: Number(bits), class: cls };
}

// Most specific first: the metadata addresses sit inside link-local and unique-local.
const V4_RANGES: readonly Range[] = [
  v4Range("169.254.169.254/32", "cloud-metadata"),
  v4Range("100.100.100.200/32", "cloud-metadata"),
  v4Range("0.0.0.0/8", "unspecified"),
  v4Range("10.0.0.0/8", "private"),
  v4Range("100.64.0.0/10", "shared-address-space"),
  v4Range("127.0.0.0/8", "loopback"),
  v4Range("169.254.0.0/16", "link-local"),
  v4Range("172.16.0.0/12", "private"),
  v4Range("192.0.0.0/24", "reserved"),
  v4Range("192.0.2.0/24", "reserved"),
  v4Range("192.168.0.0/16", "private"),
  v4Range("198.18.0.0/15", "reserved"),
  v4Range("198.51.100.0/24", "reserved"),
  v4Range("203.0.113.0/24", "reserved"),
  v4Range("224.0.0.0/4", "multicast"),
  v4Range("240.0.0.0/4", "reserved"),
];

const V6_RANGES: readonly Range[] = [
  v6Range("fd00:ec2::254/128", "cloud-metadata"),
  v6Range("::/128", "unspecified"),
  v6Range("::1/128", "loopback"),
  v6Range("64:ff9b:1::/48", "private"),
  v6Range("100::/64", "reserved"),
  v6Range("2001:db8::/32", "reserved"),
  v6Range("fc00::/7", "unique-local"),
  v6Range("fe80::/10", "link-local"),
  v6Range("fec0::/10", "link-local"),
  v6Range("ff00::/8", "multicast"),
];

// IPv6 prefixes that carry an IPv4 address a gateway may forward to: judge the IPv4 inside.
const EMBEDDED_V4: readonly { readonly prefix: Range; readonly at: number }[] = [
  { prefix: v6Range("::ffff:0:0/96", "reserved"), at: 12 }, // IPv4-mapped
  { prefix: v6Range("::/96", "reserved"), at: 12 }, // IPv4-compatible (deprecated)
  { prefix: v6Range("64:ff9b::/96", "reserved"), at: 12 }, // NAT64
  { prefix: v6Range("2002::/16", "reserved"), at: 2 }, // 6to4
];

function inRange(bytes: readonly number[], range: Range): boolean {
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyBytes(bytes: readonly number[], ranges: readonly Range[]): AddressClass | null {
  for (const range of ranges) if (inRange(bytes, range)) return range.class;
  return null;
}

/** The 16 bytes of an IPv6 address (zone id ignored), or null when it is not one. */
export function parseIPv6(text: string): Uint8Array | null {
  const address = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!isIPv6(address)) return null;
  let head = address;
  const tailV4: number[] = [];
  const lastColon = address.lastIndexOf(":");
  if (address.includes(".")) {
    tailV4.push(
      ...address
        .slice(lastColon + 1)
        .split(".")
        .map(Number),
    );
    head = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const [left = "", right] = head.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tailV4.length === 4) bytes.set(tailV4, 12);
  return bytes;
}

/** The class of an IP address (v4 dotted or any v6 form), null when it is public. */
export function classifyAddress(address: string): AddressClass | null {
  if (isIPv4(address)) return classifyBytes(address.split(".").map(Number), V4_RANGES);
  const bytes = parseIPv6(address);
  if (bytes === null) return "reserved"; // not an address at all: never connect to it
  const own = classifyBytes([...bytes], V6_RANGES);
  if (own !== null) return own;
  for (const { prefix, at } of EMBEDDED_V4) {
    if (inRange([...bytes], prefix))
      return classifyBytes([...bytes.subarray(at, at + 4)], V4_RANGES);
  }
  return null;
}
