import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { SwitchyardError } from "../../core/errors.js";
import { classifyAddress } from "./ip-ranges.js";

/**
 * The SSRF guard. Every push attempt resolves the endpoint's host itself, refuses it when any
 * resolved address is not a public unicast address, and hands the sender the address it
 * vetted, so a second lookup (DNS rebinding) can never reach a different host.
 */

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface VettedEndpoint {
  /** The endpoint as parsed (normalised by the WHATWG URL parser). */
  readonly url: URL;
  /** Host name for the Host header and TLS SNI/certificate check (no brackets, no port). */
  readonly hostname: string;
  /** The address to connect to: checked, never looked up again. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

export interface EndpointGuardOptions {
  /** Skips the address checks (dev mode, tests on loopback); the scheme check still applies. */
  readonly allowPrivateEndpoints: boolean;
  readonly resolve?: Resolver;
}

export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function refuse(url: string, why: string, cause?: unknown): never {
  throw new SwitchyardError("invalid_endpoint", `push endpoint ${url} refused: ${why}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Parses and checks what can be checked without DNS; throws `invalid_endpoint`. */
export function parseEndpointUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    return refuse(raw, "not a valid URL", cause);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    refuse(raw, `scheme ${url.protocol} is not http or https`);
  if (url.username !== "" || url.password !== "")
    refuse(raw, "credentials in the URL are not supported; send them in push.headers");
  return url;
}

async function resolveHost(
  url: URL,
  hostname: string,
  resolve: Resolver,
): Promise<readonly ResolvedAddress[]> {
  const family = isIP(hostname);
  if (family !== 0) return [{ address: hostname, family: family === 6 ? 6 : 4 }];
  try {
    const found = await resolve(hostname);
    if (found.length === 0) refuse(url.href, `${hostname} has no addresses`);
    return found;
  } catch (cause) {
    if (cause instanceof SwitchyardError) throw cause;
    return refuse(url.href, `${hostname} could not be resolved`, cause);
  }
}

function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

function checkAddresses(url: URL, hostname: string, addresses: readonly ResolvedAddress[]): void {
  for (const { address } of addresses) {
    const cls = classifyAddress(address);
    if (cls !== null) refuse(url.href, `${hostname} resolves to ${address} (${cls})`);
  }
}

/**
 * Resolves the endpoint and returns the address to connect to. Throws `invalid_endpoint` for
 * a bad URL, an unresolvable host, or (unless private endpoints are allowed) when ANY
 * address of the host is loopback, private, link-local, unique-local, shared (CGNAT),
 * multicast, reserved or a cloud-metadata address, including IPv4 inside IPv6.
 */
export async function vetEndpoint(
  raw: string,
  options: EndpointGuardOptions,
): Promise<VettedEndpoint> {
  const url = parseEndpointUrl(raw);
  const hostname = hostnameOf(url);
  const addresses = await resolveHost(url, hostname, options.resolve ?? systemResolver);
  if (!options.allowPrivateEndpoints) checkAddresses(url, hostname, addresses);
  const [chosen] = addresses;
  if (chosen === undefined) return refuse(url.href, `${hostname} has no addresses`);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return { url, hostname, address: chosen.address, family: chosen.family, port };
}

/**
 * The check when a push subscription is created or updated: the URL must be usable, and,
 * unless private endpoints are allowed, its host must not resolve to a refused address. A
 * host that does not resolve (yet) passes: every attempt checks again before it connects.
 * Throws `invalid_endpoint` with a field error at `pointer`.
 */
export async function checkEndpointConfig(
  raw: string,
  allowPrivateEndpoints: boolean,
  pointer: string,
  resolve: Resolver = systemResolver,
): Promise<void> {
  try {
    const url = parseEndpointUrl(raw);
    if (allowPrivateEndpoints) return;
    const hostname = hostnameOf(url);
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await resolveHost(url, hostname, resolve);
    } catch {
      return;
    }
    checkAddresses(url, hostname, addresses);
  } catch (error) {
    if (!(error instanceof SwitchyardError)) throw error;
    const message = error.message.replace(/^push endpoint \S+ refused: /, "");
    throw new SwitchyardError("invalid_endpoint", error.message, {
      errors: [{ pointer, message }],
    });
  }
}
