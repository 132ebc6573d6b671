/**
 * Sealing of stored secrets (push secrets and header values) with AES-256-GCM under a list of
 * named keys: the first seals, every one opens, so a rotation adds the new key first and
 * drops the old one once everything is sealed again.
 *
 * A sealed value is `sy1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts, a random 96-bit
 * IV, the 128-bit GCM tag). `sy1:<keyId>` is the additional authenticated data, so a value
 * cannot be relabelled with another key id. No message of this module holds key material.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const B64URL = "[A-Za-z0-9_-]";
const SEALED = new RegExp(
  `^sy1:([A-Za-z0-9_-]{1,32}):(${B64URL}{16}):(${B64URL}{22}):(${B64URL}*)$`,
);
const KEY_BYTES = 32;

/** A key list or a sealed value that cannot be used; the message names key ids, never keys. */
export class SecretKeyError extends Error {
  override readonly name = "SecretKeyError";
}

export interface SealedParts {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

/** The parts of a sealed value, or null when `value` is not one (e.g. a plaintext secret). */
export function sealedParts(value: string): SealedParts | null {
  const match = SEALED.exec(value);
  if (match === null) return null;
  const [, keyId = "", iv = "", tag = "", ciphertext = ""] = match;
  return {
    keyId,
    iv: Buffer.from(iv, "base64url"),
    tag: Buffer.from(tag, "base64url"),
    ciphertext: Buffer.from(ciphertext, "base64url"),
  };
}

export class SecretKeyRing {
  // KeyObjects: a cipher made from one is about three times cheaper than from raw bytes.
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /** The id of the key that seals. */
  readonly sealingKeyId: string;

  private constructor(keys: ReadonlyMap<string, KeyObject>, sealingKeyId: string) {
    this.#keys = keys;
    this.sealingKeyId = sealingKeyId;
  }

  /**
   * `id:base64` entries (32 bytes each) separated by commas; whitespace around entries is
   * ignored. `source` names where the list came from, for the error message.
   */
  static parse(text: string, source: string): SecretKeyRing {
    const entries = text.split(",").map((e) => e.trim());
    if (entries.length === 1 && entries[0] === "")
      throw new SecretKeyError(`${source} holds no secret key`);
    const keys = new Map<string, KeyObject>();
    entries.forEach((entry, i) => {
      const [id = "", key] = parseEntry(entry, `${source}: entry ${i + 1}`);
      if (keys.has(id)) throw new SecretKeyError(`${source}: key id "${id}" is given twice`);
      keys.set(id, createSecretKey(key));
    });
    return new SecretKeyRing(keys, [...keys.keys()][0] ?? "");
  }

  /** A ring of one fresh random key. */
  static generate(id?: string): SecretKeyRing {
    return SecretKeyRing.parse(SecretKeyRing.generateText(id), "a generated key");
  }

  /** A fresh key list of one random key, as the text `parse` reads. */
  static generateText(id = `k${Date.now().toString(36)}`): string {
    if (!KEY_ID.test(id)) throw new SecretKeyError(`key id "${id}" is not [A-Za-z0-9_-]{1,32}`);
    return `${id}:${randomBytes(KEY_BYTES).toString("base64")}`;
  }

  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  seal(plaintext: string): string {
    const key = this.#keys.get(this.sealingKeyId) as KeyObject;
    const label = `sy1:${this.sealingKeyId}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(label));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString("base64url"));
    return `${label}:${parts.join(":")}`;
  }

  /** The plaintext of a sealed value; throws when it is not one, its key is absent, or it was altered. */
  open(sealed: string): string {
    const parts = sealedParts(sealed);
    if (parts === null) throw new SecretKeyError("the value is not sealed");
    const key = this.#keys.get(parts.keyId);
    if (key === undefined)
      throw new SecretKeyError(`the value is sealed with key "${parts.keyId}", not in the list`);
    const decipher = createDecipheriv("aes-256-gcm", key, parts.iv);
    decipher.setAAD(Buffer.from(`sy1:${parts.keyId}`));
    decipher.setAuthTag(parts.tag);
    try {
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretKeyError(
        `a value sealed with key "${parts.keyId}" fails authentication (altered, or a different key under that id)`,
      );
    }
  }
}

function parseEntry(entry: string, where: string): [string, Buffer] {
  const colon = entry.indexOf(":");
  if (colon < 0) throw new SecretKeyError(`${where} is not id:base64`);
  const id = entry.slice(0, colon);
  const encoded = entry.slice(colon + 1);
  if (!KEY_ID.test(id)) throw new SecretKeyError(`${where}: the key id is not [A-Za-z0-9_-]{1,32}`);
  const key = BASE64.test(encoded) ? Buffer.from(encoded, "base64") : null;
  if (key === null) throw new SecretKeyError(`${where} (key "${id}") is not base64`);
  if (key.length !== KEY_BYTES)
    throw new SecretKeyError(
      `${where} (key "${id}") is ${key.length} bytes; a key is ${KEY_BYTES} bytes`,
    );
  return [id, key];
}
