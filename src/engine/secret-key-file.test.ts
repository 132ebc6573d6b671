import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretKeyError, SecretKeyRing } from "../core/secret-box.js";
import { loadSecretKeys, SECRET_KEY_FILE } from "./secret-key-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-keys-"));
  dirs.push(dir);
  return dir;
}

describe("loadSecretKeys", () => {
  it("creates secret.keys (0600, one key) for the embedded engine once, then reuses it", () => {
    const dataDir = newDir();
    const first = loadSecretKeys({ engine: "sqlite", dataDir });
    const path = join(dataDir, SECRET_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, "utf8");
    const again = loadSecretKeys({ engine: "sqlite", dataDir });
    expect(readFileSync(path, "utf8")).toBe(text);
    expect(again.keyIds).toEqual(first.keyIds);
    expect(again.open(first.seal("v"))).toBe("v");
  });

  it("takes the list over the file, and the file over the embedded default", () => {
    const dataDir = newDir();
    const file = join(dataDir, "mine.keys");
    writeFileSync(file, `${SecretKeyRing.generateText("fromfile")}\n`);
    const list = SecretKeyRing.generateText("fromlist");
    expect(loadSecretKeys({ engine: "nats", dataDir, keys: list, file }).keyIds).toEqual([
      "fromlist",
    ]);
    expect(loadSecretKeys({ engine: "nats", dataDir, file }).keyIds).toEqual(["fromfile"]);
    expect(() => statSync(join(dataDir, SECRET_KEY_FILE))).toThrow();
  });

  it("refuses NATS without keys and a key file it cannot read", () => {
    const dataDir = newDir();
    expect(() => loadSecretKeys({ engine: "nats", dataDir })).toThrow(
      /NATS engine needs secret keys.*SWITCHYARD_SECRET_KEY or secretKeyFile/,
    );
    expect(() =>
      loadSecretKeys({ engine: "sqlite", dataDir, file: join(dataDir, "missing") }),
    ).toThrow(SecretKeyError);
    expect(() =>
      loadSecretKeys({ engine: "sqlite", dataDir, file: join(dataDir, "missing") }),
    ).toThrow(/cannot read the secret key file .*missing \(ENOENT\)/);
  });
});
