import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * Classifies IP addresses for the SSRF guard on `node:net`'s `BlockList`, which compares
 * addresses as bytes: every textual form of one address (mapped, compressed, zero-padded)
 * lands in the same range, with no parser of our own to get wrong.
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

type Cidr = readonly [cidr: string, cls: AddressClass];

// Most specific first: the metadata addresses sit inside link-local and unique-local, and
// `::1` and `::` must win over the IPv4-compatible forms of 0.0.0.0/8 below.
const V6: readonly Cidr[] = [
  ["fd00:ec2::254/128", "cloud-metadata"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b:1::/48", "private"],
  ["100::/64", "reserved"],
  ["2001:db8::/32", "reserved"],
  ["fc00::/7", "unique-local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "link-local"],
  ["ff00::/8", "multicast"],
];

const V4: readonly Cidr[] = [
  ["169.254.169.254/32", "cloud-metadata"],
  ["100.100.100.200/32", "cloud-metadata"],
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared-address-space"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"],
  ["198.51.100.0/24", "reserved"],
  ["203.0.113.0/24", "reserved"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
];

/**
 * IPv6 prefixes that carry an IPv4 address a gateway may forward to (IPv4-mapped,
 * IPv4-compatible, NAT64, 6to4): each IPv4 range is listed again inside each of them, so
 * the IPv4 address inside is judged as itself.
 */
function embedded(address: string, bits: number): readonly [string, number][] {
  const hex = address
    .split(".")
    .map((octet) => Number(octet).toString(16).padStart(2, "0"))
    .join("");
  return [
    [`::ffff:${address}`, 96 + bits],
    [`::${address}`, 96 + bits],
    [`64:ff9b::${address}`, 96 + bits],
    [`2002:${hex.slice(0, 4)}:${hex.slice(4)}::`, 16 + bits],
  ];
}

interface Rule {
  readonly cls: AddressClass;
  readonly list: BlockList;
}

function rule([cidr, cls]: Cidr, family: "ipv4" | "ipv6"): Rule {
  const [address = "", bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  const list = new BlockList();
  list.addSubnet(address, bits, family);
  if (family === "ipv4")
    for (const [v6, v6Bits] of embedded(address, bits)) list.addSubnet(v6, v6Bits, "ipv6");
  return { cls, list };
}

const RULES: readonly Rule[] = [
  ...V6.map((cidr) => rule(cidr, "ipv6")),
  ...V4.map((cidr) => rule(cidr, "ipv4")),
];

/** The class of an IP address (v4 dotted or any v6 form), null when it is public. */
export function classifyAddress(text: string): AddressClass | null {
  const address = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : null;
  if (family === null) return "reserved"; // not an address at all: never connect to it
  for (const { cls, list } of RULES) if (list.check(address, family)) return cls;
  return null;
}
