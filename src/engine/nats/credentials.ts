import {
  type Authenticator,
  type ConnectionOptions,
  credsAuthenticator,
  nkeyAuthenticator,
} from "@nats-io/transport-node";

/**
 * How the engine proves itself to NATS and checks the servers, as `@nats-io/transport-node`
 * supports: a `.creds` file (user JWT + nkey seed, decentralised auth), an nkey seed, or a
 * user and password; and TLS against a CA of the installation's own. Contents, not paths:
 * whoever starts the engine reads the files, and no secret ever reaches an error message.
 */
export interface NatsCredentials {
  /** A `.creds` file's content, as `nsc` writes it. */
  readonly creds?: Uint8Array;
  /** An nkey user seed (`SU…`). */
  readonly nkeySeed?: Uint8Array;
  readonly user?: string;
  readonly password?: string;
  /** PEM of the CA that signed the servers' certificates: the connection requires TLS. */
  readonly tlsCa?: string;
}

function trimmed(bytes: Uint8Array): Uint8Array {
  return new TextEncoder().encode(new TextDecoder().decode(bytes).trim());
}

export function connectionOptions(credentials: NatsCredentials = {}): Partial<ConnectionOptions> {
  const authenticators: Authenticator[] = [];
  if (credentials.creds !== undefined) authenticators.push(credsAuthenticator(credentials.creds));
  if (credentials.nkeySeed !== undefined)
    authenticators.push(nkeyAuthenticator(trimmed(credentials.nkeySeed)));
  return {
    ...(authenticators.length === 0 ? {} : { authenticator: authenticators }),
    ...(credentials.user === undefined ? {} : { user: credentials.user }),
    ...(credentials.password === undefined ? {} : { pass: credentials.password }),
    ...(credentials.tlsCa === undefined ? {} : { tls: { ca: credentials.tlsCa } }),
  };
}
