import type { PushConfig, SubscriptionConfig } from "../core/config.js";
import { SecretKeyError, type SecretKeyRing, sealedParts } from "../core/secret-box.js";
import type { CursorStore } from "../engine/engine.js";

type Secrets = Pick<PushConfig, "secrets" | "headers">;

/**
 * Push secrets and header values are sealed before the engine stores a config and opened
 * where delivery needs them, so stores hold only ciphertext and the engine seam is unchanged.
 * Opened configs are cached per subscription, keyed by the sealed values: a config is opened
 * once per change, never per push attempt.
 */
export class PushSecrets {
  readonly #keys: SecretKeyRing;
  readonly #opened = new Map<string, { sealed: string; open: Secrets }>();

  constructor(keys: SecretKeyRing) {
    this.#keys = keys;
  }

  /** `config` with every secret and header value sealed under the first key. */
  seal(config: SubscriptionConfig): SubscriptionConfig {
    if (config.push === null) return config;
    const seal = (value: string) => this.#keys.seal(value);
    const push: PushConfig = {
      ...config.push,
      secrets: config.push.secrets.map(seal),
      headers: mapValues(config.push.headers, seal),
    };
    this.#opened.set(config.name, { sealed: fingerprint(push), open: secretsOf(config.push) });
    return { ...config, push };
  }

  /**
   * A stored config with its secrets and header values opened; throws `SecretKeyError`. A
   * plaintext value (written before sealing existed, e.g. by an older node) is taken as it
   * is; the next start seals it.
   */
  open(config: SubscriptionConfig): SubscriptionConfig {
    if (config.push === null) return config;
    const sealed = fingerprint(config.push);
    let cached = this.#opened.get(config.name);
    if (cached?.sealed !== sealed) {
      const open = (value: string) => this.#openValue(config.name, value);
      const { secrets, headers } = config.push;
      cached = { sealed, open: { secrets: secrets.map(open), headers: mapValues(headers, open) } };
      this.#opened.set(config.name, cached);
    }
    return { ...config, push: { ...config.push, ...cached.open } };
  }

  /** Drops the cache entries of subscriptions not in `names` (deleted ones). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.#opened.keys()) if (!names.has(name)) this.#opened.delete(name);
  }

  /**
   * Opens every stored push config (so a start refuses a value it cannot open), then seals
   * again, under the first key, each one holding a plaintext value (a store written before
   * sealing existed) or a value sealed under another key (a rotation). Fails, writing
   * nothing, when a value is sealed under a key that is not in the list or was altered.
   * Returns the names of the configs it rewrote.
   */
  async reseal(cursors: CursorStore): Promise<string[]> {
    const stored = await cursors.listSubscriptions();
    const opened = stored.map((c) => ({ stale: this.#isStale(c), config: this.open(c) }));
    const stale = opened.filter((o) => o.stale).map((o) => o.config);
    for (const config of stale) await cursors.putSubscription(this.seal(config));
    return stale.map((c) => c.name);
  }

  #isStale(config: SubscriptionConfig): boolean {
    if (config.push === null) return false;
    return valuesOf(config.push).some((v) => sealedParts(v)?.keyId !== this.#keys.sealingKeyId);
  }

  #openValue(subscription: string, value: string): string {
    const parts = sealedParts(value);
    if (parts === null) return value;
    if (!this.#keys.has(parts.keyId))
      throw new SecretKeyError(
        `subscription ${subscription} holds push secrets or header values sealed with secret key "${parts.keyId}", which is not in the secret keys (${this.#keys.keyIds.join(", ")}); add key "${parts.keyId}" back to SWITCHYARD_SECRET_KEY or the secretKeyFile`,
      );
    try {
      return this.#keys.open(value);
    } catch (error) {
      if (error instanceof SecretKeyError)
        throw new SecretKeyError(`subscription ${subscription}: ${error.message}`);
      throw error;
    }
  }
}

function valuesOf(push: Secrets): string[] {
  return [...push.secrets, ...Object.values(push.headers)];
}

function secretsOf(push: PushConfig): Secrets {
  return { secrets: push.secrets, headers: push.headers };
}

function fingerprint(push: Secrets): string {
  return JSON.stringify([push.secrets, push.headers]);
}

function mapValues(
  record: Readonly<Record<string, string>>,
  f: (value: string) => string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}
