/**
 * The engine authenticates to NATS as the operator configures it: a user and password, an
 * nkey seed, TLS against a CA of the installation's own. Wrong credentials fail the start
 * with `engine_unavailable` and a message that repeats no secret.
 */
import { randomBytes } from "node:crypto";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type NatsServers,
  natsServerAvailable,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import { makeCertificates, type TestCertificates } from "../../../test/support/tls.js";
import { isSwitchyardError } from "../../core/errors.js";
import type { NatsCredentials } from "./credentials.js";
import { NatsEngine } from "./index.js";

const PASSWORD = `pw-${randomBytes(8).toString("hex")}`;

async function opens(servers: NatsServers, credentials: NatsCredentials): Promise<void> {
  const engine = await NatsEngine.open({
    servers: servers.url,
    prefix: `CR${randomBytes(3).toString("hex")}`,
    credentials,
    timeoutMs: 2_000,
    connectTimeoutMs: 3_000,
  });
  try {
    await engine.log.putTopic({
      name: "t",
      retention: {},
      dedupeWindowMs: 0,
      maxEventBytes: 1024,
    });
  } finally {
    await engine.close();
  }
}

async function refusal(servers: NatsServers, credentials: NatsCredentials): Promise<Error> {
  const failure = await opens(servers, credentials).then(
    () => new Error("opened with bad credentials"),
    (error: Error) => error,
  );
  expect(isSwitchyardError(failure) && failure.code).toBe("engine_unavailable");
  expect(failure.message).not.toContain(PASSWORD);
  return failure;
}

describe.runIf(natsServerAvailable())("NATS credentials", () => {
  it("connects with a user and password, and refuses a wrong one", async () => {
    const servers = await startNatsServer({
      config: `authorization { user: sy, password: "${PASSWORD}" }`,
    });
    try {
      await opens(servers, { user: "sy", password: PASSWORD });
      await refusal(servers, { user: "sy", password: `${PASSWORD}x` });
      await refusal(servers, {});
    } finally {
      await servers.close();
    }
  });

  it("connects with an nkey seed, and refuses another key", async () => {
    const user = nkeys.createUser();
    const servers = await startNatsServer({
      config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`,
    });
    try {
      await opens(servers, {
        nkeySeed: new TextEncoder().encode(`${new TextDecoder().decode(user.getSeed())}\n`),
      });
      await refusal(servers, { nkeySeed: nkeys.createUser().getSeed() });
    } finally {
      await servers.close();
    }
  });

  describe("over TLS", () => {
    let certs: TestCertificates;
    let servers: NatsServers;
    beforeAll(async () => {
      certs = makeCertificates();
      servers = await startNatsServer({
        config: `tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }`,
      });
    });
    afterAll(async () => {
      await servers?.close();
      certs?.dispose();
    });

    it("connects trusting the installation's CA", async () => {
      await opens(servers, { tlsCa: certs.ca.toString("utf8") });
    });

    it("refuses a server whose certificate it cannot verify", async () => {
      await refusal(servers, {});
    });
  });
});
