/**
 * A private CA and a server certificate it signs for 127.0.0.1, ::1 and localhost, made with
 * the machine's `openssl` in a temp dir: TLS tests trust exactly this CA and nothing else.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  dispose(): void;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-tls-"));
  const days = ["-days", "2"];
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=Switchyard test CA",
  ]);
  openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n");
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    ...days,
    "-extfile",
    "san.ext",
  ]);
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caFile: file("ca.pem"),
    certFile: file("server.pem"),
    keyFile: file("server.key"),
    ca: readFileSync(file("ca.pem")),
    cert: readFileSync(file("server.pem")),
    key: readFileSync(file("server.key")),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
