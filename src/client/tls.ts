import { Agent, fetch as undiciFetch } from "undici";
import type { Fetch } from "./http.js";

/** PEM certificates the SDK trusts besides Node's bundled roots (a private CA). */
export type CertificateAuthority = string | Buffer | readonly (string | Buffer)[];

/**
 * A `fetch` that trusts `ca` for HTTPS routers. The global `fetch` takes no CA of its own,
 * and swapping the process-wide one (`NODE_EXTRA_CA_CERTS`) is not the SDK's to do.
 */
export function fetchTrusting(ca: CertificateAuthority): Fetch {
  const dispatcher = new Agent({ connect: { ca: [ca].flat() } });
  // undici's own Response is the one the global fetch returns; only the type names differ.
  return (url, init) =>
    undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
