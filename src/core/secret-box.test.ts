import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretKeyError, SecretKeyRing, sealedParts } from "./secret-box.js";

const keyText = (id: string, bytes = 32) => `${id}:${randomBytes(bytes).toString("base64")}`;

describe("SecretKeyRing", () => {
  it("seals and opens, with a fresh IV each time and no plaintext in the sealed value", () => {
    const ring = SecretKeyRing.parse(keyText("a"), "test");
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const one = ring.seal(secret);
    const two = ring.seal(secret);
    expect(one).not.toBe(two);
    expect(one).toMatch(/^sy1:a:/);
    expect(one).not.toContain("MfKQ9r8");
    expect(ring.open(one)).toBe(secret);
    expect(ring.open(two)).toBe(secret);
    expect(ring.open(ring.seal(""))).toBe("");
    expect(ring.open(ring.seal("é ✓ multi-byte"))).toBe("é ✓ multi-byte");
  });

  it("refuses a value altered anywhere: ciphertext, tag, IV or the key id", () => {
    const ring = SecretKeyRing.parse(`${keyText("a")},${keyText("b")}`, "test");
    const sealed = ring.seal("Bearer top-secret");
    const [prefix, id, iv, tag, ct] = sealed.split(":") as [string, string, string, string, string];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, "base64url");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString("base64url");
    };
    for (const altered of [
      [prefix, id, iv, tag, flip(ct)],
      [prefix, id, iv, flip(tag), ct],
      [prefix, id, flip(iv), tag, ct],
      [prefix, "b", iv, tag, ct], // relabelled: the key id is authenticated data
    ])
      expect(() => ring.open(altered.join(":"))).toThrow(SecretKeyError);
    expect(() => ring.open("whsec_plain")).toThrow(/not sealed/);
  });

  it("rotates: sealed under A, opened with [B, A], sealed again under B", () => {
    const a = keyText("a");
    const b = keyText("b");
    const old = SecretKeyRing.parse(a, "test");
    const sealed = old.seal("value");
    const rotated = SecretKeyRing.parse(`${b},${a}`, "test");
    expect(rotated.sealingKeyId).toBe("b");
    expect(rotated.open(sealed)).toBe("value");
    const resealed = rotated.seal(rotated.open(sealed));
    expect(sealedParts(resealed)?.keyId).toBe("b");
    const onlyB = SecretKeyRing.parse(b, "test");
    expect(onlyB.open(resealed)).toBe("value");
    expect(() => onlyB.open(sealed)).toThrow(/key "a", not in the list/);
  });

  it("refuses a key under the right id but with other bytes", () => {
    const sealed = SecretKeyRing.parse(keyText("a"), "test").seal("value");
    expect(() => SecretKeyRing.parse(keyText("a"), "test").open(sealed)).toThrow(
      /fails authentication/,
    );
  });

  it.each([
    ["", /holds no secret key/],
    ["  \n", /holds no secret key/],
    ["justsomething", /entry 1 is not id:base64/],
    [`bad id!:${randomBytes(32).toString("base64")}`, /entry 1: the key id is not/],
    [`${"x".repeat(33)}:${randomBytes(32).toString("base64")}`, /the key id is not/],
    ["a:not base64!", /entry 1 \(key "a"\) is not base64/],
    [`a:${randomBytes(16).toString("base64")}`, /16 bytes; a key is 32 bytes/],
    [`a:${randomBytes(33).toString("base64")}`, /33 bytes/],
    [`${keyText("a")},${keyText("a")}`, /key id "a" is given twice/],
    [`${keyText("a")},`, /entry 2 is not id:base64/],
  ])("refuses the key list %j with a message holding no key material", (text, message) => {
    let error: unknown;
    try {
      SecretKeyRing.parse(text, "SWITCHYARD_SECRET_KEY");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecretKeyError);
    const shown = (error as Error).message;
    expect(shown).toMatch(message);
    expect(shown).toContain("SWITCHYARD_SECRET_KEY");
    for (const entry of text.split(",")) {
      const material = entry.slice(entry.indexOf(":") + 1).trim();
      if (material.length >= 8) expect(shown).not.toContain(material);
    }
  });

  it("reads a list with spaces and a trailing newline, the first key sealing", () => {
    const ring = SecretKeyRing.parse(` ${keyText("new")} , ${keyText("old-1_x")}\n`, "file");
    expect(ring.keyIds).toEqual(["new", "old-1_x"]);
    expect(ring.sealingKeyId).toBe("new");
  });

  it("generates a list it can read back", () => {
    const text = SecretKeyRing.generateText("gen");
    const ring = SecretKeyRing.parse(text, "generated");
    expect(ring.keyIds).toEqual(["gen"]);
    expect(SecretKeyRing.generate().keyIds[0]).toMatch(/^k[0-9a-z]+$/);
  });
});
