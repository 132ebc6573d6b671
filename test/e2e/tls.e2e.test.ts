/**
 * HTTPS and WSS with a CA made in the test: the SDK and the CLI trust it through `ca` /
 * `--ca`, and without it refuse the router; `serve` explains bad TLS settings in one line.
 */
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, SwitchyardClientError } from "../../src/client/index.js";
import { eventually } from "../support/eventually.js";
import { startTestRouter, type TestRouter, uniqueName } from "../support/router.js";
import { makeCertificates, type TestCertificates } from "../support/tls.js";

const bin = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "bin/switchyard.js");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

let certs: TestCertificates;
let router: TestRouter;

beforeAll(async () => {
  certs = makeCertificates();
  router = await startTestRouter({
    autoCreateTopics: true,
    tls: { cert: certs.cert, key: certs.key },
  });
});

afterAll(async () => {
  await router?.dispose();
  certs?.dispose();
});

describe("TLS", () => {
  it("serves HTTPS: the SDK trusting the test CA publishes, reads and streams over WSS", async () => {
    expect(router.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = createClient({ url: router.url, ca: certs.ca, batch: { lingerMs: 0 } });
    const topic = uniqueName("tls");
    const sub = uniqueName("tls");
    try {
      await client.admin.topics.put(topic, {});
      await client.admin.subscriptions.put(sub, { topic, start: "earliest" });
      await client.publish(topic, { type: "t.sent", source: "/tls", data: { n: 1 } });
      const seen: unknown[] = [];
      const subscriber = client.subscribe(sub, async (delivery) => {
        seen.push(delivery.event.data);
      });
      await eventually(() => expect(seen).toEqual([{ n: 1 }]));
      await subscriber.close();
    } finally {
      await client.close();
    }
  });

  it("an SDK that does not trust the CA gets no answer, and plain HTTP is not served", async () => {
    const client = createClient({ url: router.url, retry: { retries: 0 } });
    try {
      const failure = await client.admin.topics.list().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SwitchyardClientError);
      expect((failure as SwitchyardClientError).code).toBe("unreachable");
    } finally {
      await client.close();
    }
    const plain = await fetch(router.url.replace("https", "http")).catch((error: unknown) => error);
    expect(plain).toBeInstanceOf(Error);
  });

  it("the CLI publishes with --ca, and without it fails in one line", async () => {
    const topic = uniqueName("tls");
    const args = ["publish", topic, "--type", "t.cli", "--data", "{}", "--url", router.url];
    const trusted = await cli([...args, "--ca", certs.caFile]);
    expect(trusted.stderr).toBe("");
    expect(trusted.code).toBe(0);
    const untrusted = await cli(args);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr.trim().split("\n")).toHaveLength(1);
    expect(untrusted.stderr).toContain("pass --ca FILE");
    const missing = await cli([...args, "--ca", join(certs.dir, "nope.pem")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read the CA file");
  });

  it("serve refuses half a TLS setting and a key that does not match, naming the fix", async () => {
    const half = await cli([
      "serve",
      "--port",
      "0",
      "--data",
      certs.dir,
      "--tls-cert",
      certs.certFile,
    ]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("TLS needs both a certificate and its key");
    const mismatched = await cli([
      "serve",
      "--port",
      "0",
      "--data",
      certs.dir,
      "--tls-cert",
      certs.certFile,
      "--tls-key",
      join(certs.dir, "ca.key"),
    ]);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain("the TLS certificate or key is not usable");
  });
});
