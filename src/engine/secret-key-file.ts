/**
 * Where the secret keys (which seal push secrets and header values) come from: the key list
 * itself (`SWITCHYARD_SECRET_KEY`), a file naming them, or, for the embedded engine only, a
 * file it creates beside its store. NATS routers share one JetStream, so they must share the
 * keys too: an installation-made key on one node would be unreadable on the others.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { SecretKeyError, SecretKeyRing } from "../core/secret-box.js";

/** The name of the key file the embedded engine creates in its data directory. */
export const SECRET_KEY_FILE = "secret.keys";

export interface SecretKeySource {
  /** The key list (`id:base64,…`), e.g. from `SWITCHYARD_SECRET_KEY`. */
  readonly keys?: string;
  /** A file holding the key list. */
  readonly file?: string;
  readonly engine: "sqlite" | "nats";
  readonly dataDir: string;
}

export function loadSecretKeys(source: SecretKeySource): SecretKeyRing {
  if (source.keys !== undefined) return SecretKeyRing.parse(source.keys, "SWITCHYARD_SECRET_KEY");
  if (source.file !== undefined) return SecretKeyRing.parse(readKeyFile(source.file), source.file);
  if (source.engine === "nats")
    throw new SecretKeyError(
      "the NATS engine needs secret keys, the same on every node: set SWITCHYARD_SECRET_KEY or secretKeyFile (--secret-key-file) to id:base64 of 32 random bytes",
    );
  const path = join(source.dataDir, SECRET_KEY_FILE);
  createKeyFile(path);
  return SecretKeyRing.parse(readKeyFile(path), path);
}

/**
 * Writes a fresh key to `path` (mode 0600) unless the file exists. Written to a temporary
 * file and linked into place, so a crash never leaves an empty key file behind and two
 * starts racing agree on one key.
 */
function createKeyFile(path: string): void {
  if (existsSync(path)) return;
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, `${SecretKeyRing.generateText()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SecretKeyError(`cannot read the secret key file ${path} (${why})`);
  }
}
