/**
 * The start-up rules of access control, through the real `switchyard` command (dist/):
 * `serve` refuses without a key or off loopback without auth; `keys create --admin --data`
 * works offline on a stopped store (audited) and refuses on a live one; `keys create --engine
 * nats` reaches a nats-server that requires an nkey over TLS, by flags or serve's config file;
 * nothing logs a credential.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { generateKey, KEYS_KIND, parseKey } from "../../src/broker/keys.js";
import { createEngine } from "../../src/engine/create-engine.js";
import { natsServerAvailable, startNatsServer } from "../support/nats-server.js";
import { startRouterProcess } from "../support/router-process.js";
import { makeCertificates } from "../support/tls.js";

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const work = mkdtempSync(join(tmpdir(), "switchyard-auth-start-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const clean: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...env };
    if (env.SWITCHYARD_ADMIN_KEY === undefined) delete clean.SWITCHYARD_ADMIN_KEY;
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: work, env: clean, timeout: 30_000 },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === "number" ? error.code : null) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

function oneLine(run: Run): string {
  const lines = run.stderr.trim().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  return lines[0] ?? "";
}

describe("serve's start-up rules", () => {
  it("refuses to start without any key, naming the fix (exit 2)", async () => {
    const run = await cli(["serve", "--port", "0", "--data", join(work, "empty")]);
    expect(run.code).toBe(2);
    expect(oneLine(run)).toMatch(
      /no API key exists and SWITCHYARD_ADMIN_KEY is not set .* set SWITCHYARD_ADMIN_KEY/,
    );
  });

  it("refuses --no-auth off loopback (exit 2)", async () => {
    const offLoopback = ["--host", "0.0.0.0", "--port", "0", "--data", join(work, "open")];
    const run = await cli(["serve", "--no-auth", ...offLoopback]);
    expect(run.code).toBe(2);
    expect(oneLine(run)).toContain("--no-auth is accepted only on a loopback bind");
    const dev = await cli(["dev", ...offLoopback]);
    expect(dev.code).toBe(2);
    expect(oneLine(dev)).toContain("pass --auth");
  });

  it("keys create --admin --data works on a stopped store, refuses on a live one, and serve then runs with it", async () => {
    const data = join(work, "offline");
    const created = await cli(["keys", "create", "--admin", "--name", "boot", "--data", data]);
    expect(created.code, created.stderr).toBe(0);
    const key = /^(sy_[a-z0-9]{16}_[0-9A-Za-z]{43})$/m.exec(created.stdout)?.[1] ?? "";
    expect(key).not.toBe("");
    expect(created.stderr).toContain("will not be shown again");

    const router = await startRouterProcess({
      dataDir: data,
      auth: true,
      args: ["--log-level", "debug"],
    });
    try {
      const self = await fetch(`${router.url}/v1/keys/self`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(self.status).toBe(200);
      expect(((await self.json()) as { name: string }).name).toBe("boot");
      // The offline creation is in the audit trail: no key made it, the CLI did.
      const audit = await fetch(`${router.url}/v1/topics/switchyard.audit/events?from=1`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(audit.status).toBe(200);
      const auditText = await audit.text();
      const { events } = JSON.parse(auditText) as {
        events: { type: string; subject: string; data: Record<string, unknown> }[];
      };
      const id = parseKey(key)?.id;
      expect(events.filter((e) => e.type === "switchyard.key.created")).toEqual([
        expect.objectContaining({
          subject: id,
          data: expect.objectContaining({
            actor: null,
            via: "cli",
            key: expect.objectContaining({ id, name: "boot", scopes: ["admin"] }),
          }),
        }),
      ]);
      expect(auditText).not.toContain(key.slice(-43));
      const bogus = `sy_${key.slice(3, 19)}_${"Z".repeat(43)}`;
      const refused = await fetch(`${router.url}/v1/topics`, {
        headers: { authorization: `Bearer ${bogus}` },
      });
      expect(refused.status).toBe(401);
      expect((await fetch(`${router.url}/v1/topics`)).headers.get("www-authenticate")).toBe(
        "Bearer",
      );

      const live = await cli(["keys", "create", "--admin", "--data", data]);
      expect(live.code).not.toBe(0);
      expect(oneLine(live)).toContain(`in use by process ${router.pid}`);

      const listed = await cli(["keys", "list", "--url", router.url], { SWITCHYARD_API_KEY: key });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain("boot");
      expect(listed.stdout).not.toContain(key.slice(-43));
      // No log line carries a presented credential.
      expect(router.output).not.toContain(key.slice(-43));
      expect(router.output).not.toContain("ZZZZZZZZZZ");
    } finally {
      await router.stop();
    }
  });

  it("registers SWITCHYARD_ADMIN_KEY once and refuses it with another secret", async () => {
    const data = join(work, "admin-env");
    const generated = await cli(["keys", "generate"]);
    const key = generated.stdout.trim();
    const id = parseKey(key)?.id ?? "";
    expect(id).toMatch(/^[a-z0-9]{16}$/);
    const router = await startRouterProcess({
      dataDir: data,
      auth: true,
      env: { SWITCHYARD_ADMIN_KEY: key },
    });
    const self = await fetch(`${router.url}/v1/keys/self`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(self.status).toBe(200);
    await router.stop();
    const other = `sy_${id}_${generateKey().secret}`;
    const run = await cli(["serve", "--port", "0", "--data", data], {
      SWITCHYARD_ADMIN_KEY: other,
    });
    expect(run.code).toBe(2);
    expect(oneLine(run)).toContain("registered with another secret");
    expect(run.stderr).not.toContain(other.slice(-43));
  });
});

describe("keys create's rate-limit flags", () => {
  it("--requests-per-sec and --events-per-sec set the key's rateLimit, offline and online", async () => {
    const data = join(work, "limits");
    const bad = await cli(["keys", "create", "--admin", "--requests-per-sec", "0", "--data", data]);
    expect(bad.code).not.toBe(0);
    expect(oneLine(bad)).toContain('--requests-per-sec "0" is not a positive number');
    const offline = await cli([
      "keys",
      "create",
      "--admin",
      "--name",
      "limited-offline",
      "--requests-per-sec",
      "1",
      "--data",
      data,
    ]);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain("(1 req/s)");
    const admin = generateKey().key;
    const router = await startRouterProcess({
      dataDir: data,
      auth: true,
      env: { SWITCHYARD_ADMIN_KEY: admin },
    });
    try {
      const env = { SWITCHYARD_API_KEY: admin };
      const online = await cli(
        ["keys", "create", "--name", "limited-online", "--scope", "publish:x.*"].concat([
          "--requests-per-sec",
          "20",
          "--events-per-sec",
          "0.5",
          "--json",
          "--url",
          router.url,
        ]),
        env,
      );
      expect(online.code, online.stderr).toBe(0);
      const created = JSON.parse(online.stdout) as { rateLimit?: unknown };
      expect(created.rateLimit).toEqual({ requestsPerSec: 20, eventsPerSec: 0.5 });
      const listed = await fetch(`${router.url}/v1/keys`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      const { keys } = (await listed.json()) as {
        keys: { name: string; rateLimit?: unknown }[];
      };
      const limits = Object.fromEntries(keys.map((k) => [k.name, k.rateLimit]));
      expect(limits).toMatchObject({
        "limited-offline": { requestsPerSec: 1 },
        "limited-online": { requestsPerSec: 20, eventsPerSec: 0.5 },
      });
      expect(limits["admin (SWITCHYARD_ADMIN_KEY)"]).toBeUndefined();
      const table = await cli(["keys", "list", "--url", router.url], env);
      expect(table.stdout).toMatch(/limited-online .*20 req\/s, 0\.5 events\/s/);
      // The router holds the offline key to its 1 request/s: a burst of three meets a 429.
      const key = /^(sy_\S+)$/m.exec(offline.stdout)?.[1] ?? "";
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const answer = await fetch(`${router.url}/v1/keys/self`, {
          headers: { authorization: `Bearer ${key}` },
        });
        statuses.push(answer.status);
      }
      expect(statuses[0]).toBe(200);
      expect(statuses).toContain(429);
    } finally {
      await router.stop();
    }
  });
});

describe.runIf(natsServerAvailable())(
  "keys create --engine nats on a NATS requiring credentials",
  () => {
    it("connects with an nkey seed over TLS, by flags or serve's config file, and refuses without them", async () => {
      const certs = makeCertificates();
      const user = nkeys.createUser();
      const nats = await startNatsServer({
        config: [
          `tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }`,
          `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`,
        ].join("\n"),
      });
      const seed = new TextDecoder().decode(user.getSeed());
      const seedFile = join(work, "user.nk");
      writeFileSync(seedFile, `${seed}\n`, { mode: 0o600 });
      const prefix = `KN${Date.now().toString(36)}`;
      const connect = ["--engine", "nats", "--nats-url", nats.url, "--nats-prefix", prefix];
      try {
        const byFlags = await cli([
          ...["keys", "create", "--admin", "--name", "nk-flags", ...connect],
          ...["--nats-nkey-file", seedFile, "--nats-tls-ca", certs.caFile],
        ]);
        expect(byFlags.code, byFlags.stderr).toBe(0);

        // The file `serve --config` reads: its nats.* settings, relative paths from the cwd.
        const config = join(work, "switchyard.json");
        writeFileSync(
          config,
          JSON.stringify({
            engine: "nats",
            port: 9999,
            nats: { url: nats.url, prefix, nkeyFile: "user.nk", tlsCa: certs.caFile },
          }),
        );
        const byConfig = await cli([
          ...["keys", "create", "--scope", "metrics", "--name", "nk-config"],
          ...["--engine", "nats", "--config", config],
        ]);
        expect(byConfig.code, byConfig.stderr).toBe(0);

        const noCa = await cli([
          ...["keys", "create", "--admin", ...connect, "--nats-nkey-file", seedFile],
        ]);
        expect(noCa.code).toBe(1);
        expect(oneLine(noCa)).toContain("(engine_unavailable)");
        const noSeed = await cli([
          "keys",
          "create",
          "--admin",
          ...connect,
          "--nats-tls-ca",
          certs.caFile,
        ]);
        expect(noSeed.code).toBe(1);
        expect(oneLine(noSeed)).toContain("Authorization Violation");
        const configWithoutNats = await cli(["keys", "create", "--admin", "--config", config]);
        expect(configWithoutNats.code).toBe(2);
        expect(oneLine(configWithoutNats)).toContain(
          "--config gives the NATS settings of --engine nats",
        );
        for (const run of [byFlags, byConfig, noCa, noSeed])
          expect(`${run.stdout}${run.stderr}`).not.toContain(seed);

        // Both keys are in the installation's Catalog, where its routers read them.
        const engine = await createEngine({
          kind: "nats",
          servers: nats.url,
          prefix,
          credentials: { nkeySeed: user.getSeed(), tlsCa: certs.ca.toString("utf8") },
        });
        try {
          for (const [run, name] of [
            [byFlags, "nk-flags"],
            [byConfig, "nk-config"],
          ] as const) {
            const id = parseKey(/^(sy_\S+)$/m.exec(run.stdout)?.[1] ?? "")?.id ?? "";
            expect((await engine.catalog.get(KEYS_KIND, id))?.value).toMatchObject({ id, name });
          }
          expect(await engine.catalog.list(KEYS_KIND)).toHaveLength(2);
        } finally {
          await engine.close();
        }
      } finally {
        await nats.close();
        certs.dispose();
      }
    }, 60_000);
  },
);
