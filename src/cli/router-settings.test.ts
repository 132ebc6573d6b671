import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliFailure, EXIT_USAGE } from "./fail.js";
import { loadConfigFile, resolveSettings } from "./router-settings.js";

const cwd = "/srv/app";

describe("resolveSettings", () => {
  it("uses each mode's defaults when nothing is given", () => {
    expect(resolveSettings("dev", { flags: {}, env: {}, cwd })).toEqual({
      host: "127.0.0.1",
      port: 8420,
      dataDir: "/srv/app/.switchyard",
      engine: "sqlite",
      fsync: "always",
      autoCreateTopics: true,
      autoCreateIndexes: ["subject", "correlationid"],
      allowPrivateEndpoints: true,
      logLevel: "warn",
      limits: {},
      auth: false,
    });
    expect(resolveSettings("serve", { flags: {}, env: {}, cwd })).toMatchObject({
      dataDir: "/srv/app/switchyard-data",
      autoCreateTopics: false,
      autoCreateIndexes: [],
      allowPrivateEndpoints: false,
      logLevel: "info",
    });
    expect(
      resolveSettings("serve", {
        flags: {},
        env: { SWITCHYARD_ALLOW_PRIVATE_ENDPOINTS: "true" },
        cwd,
      }).allowPrivateEndpoints,
    ).toBe(true);
  });

  it("reads the three timeouts from flags, env and the config file, and refuses bad ones", () => {
    const file = {
      path: "switchyard.json",
      values: { limits: { headersTimeoutMs: 1_000, bodyIdleTimeoutMs: 2_000 } },
    };
    const settings = resolveSettings("serve", {
      flags: { headersTimeoutMs: "500" },
      env: { SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: "0" },
      file,
      cwd,
    });
    expect(settings.limits).toEqual({
      headersTimeoutMs: 500,
      bodyIdleTimeoutMs: 2_000,
      keepAliveTimeoutMs: 0,
    });
    for (const bad of ["-1", "1.5", "soon", "3600001"])
      expect(() =>
        resolveSettings("serve", { flags: { bodyIdleTimeoutMs: bad }, env: {}, cwd }),
      ).toThrow(CliFailure);
  });

  it("reads publicUrl from the flag, env or config file, and refuses one that is not an http(s) URL", () => {
    const file = { path: "switchyard.json", values: { publicUrl: "https://file.example.com" } };
    expect(resolveSettings("serve", { flags: {}, env: {}, file, cwd }).publicUrl).toBe(
      "https://file.example.com",
    );
    const fromEnv = { SWITCHYARD_PUBLIC_URL: "https://env.example.com/sy" };
    expect(resolveSettings("serve", { flags: {}, env: fromEnv, file, cwd }).publicUrl).toBe(
      "https://env.example.com/sy",
    );
    const flags = { publicUrl: "http://flag.example.com:8420" };
    expect(resolveSettings("dev", { flags, env: fromEnv, cwd }).publicUrl).toBe(
      "http://flag.example.com:8420",
    );
    expect(resolveSettings("dev", { flags: {}, env: {}, cwd }).publicUrl).toBeUndefined();
    for (const bad of ["events.example.com", "ftp://x.example.com", "https://x.example.com/?a=1"])
      expect(() => resolveSettings("serve", { flags: { publicUrl: bad }, env: {}, cwd })).toThrow(
        /--public-url/,
      );
  });

  it("reads the secret key list from the environment and the key file path from a flag", () => {
    const settings = resolveSettings("serve", {
      flags: { secretKeyFile: "keys/secret.keys" },
      env: { SWITCHYARD_SECRET_KEY: "k1:AAAA" },
      cwd,
    });
    expect(settings.secretKeys).toBe("k1:AAAA");
    expect(settings.secretKeyFile).toBe("/srv/app/keys/secret.keys");
    const fromEnv = resolveSettings("dev", {
      flags: {},
      env: { SWITCHYARD_SECRET_KEY_FILE: "/etc/sy.keys", SWITCHYARD_SECRET_KEY: "" },
      cwd,
    });
    expect(fromEnv.secretKeyFile).toBe("/etc/sy.keys");
    expect(fromEnv.secretKeys).toBeUndefined();
  });

  it("auth: serve on, dev off; off only on a loopback bind; the admin key from the env", () => {
    expect(resolveSettings("serve", { flags: {}, env: {}, cwd }).auth).toBe(true);
    expect(resolveSettings("serve", { flags: { auth: false }, env: {}, cwd }).auth).toBe(false);
    expect(resolveSettings("dev", { flags: { auth: true }, env: {}, cwd }).auth).toBe(true);
    expect(resolveSettings("dev", { flags: {}, env: { SWITCHYARD_AUTH: "true" }, cwd }).auth).toBe(
      true,
    );
    expect(
      resolveSettings("serve", { flags: {}, env: { SWITCHYARD_ADMIN_KEY: "sy_k" }, cwd }).adminKey,
    ).toBe("sy_k");
    expect(() =>
      resolveSettings("serve", { flags: { auth: false, host: "0.0.0.0" }, env: {}, cwd }),
    ).toThrow(/--no-auth is accepted only on a loopback bind/);
    expect(() => resolveSettings("dev", { flags: { host: "0.0.0.0" }, env: {}, cwd })).toThrow(
      /dev without --auth is accepted only on a loopback bind/,
    );
    expect(
      resolveSettings("dev", { flags: { host: "0.0.0.0", auth: true }, env: {}, cwd }).auth,
    ).toBe(true);
  });

  it("takes flags over env over the config file over defaults, key by key", () => {
    const file = {
      path: "switchyard.json",
      values: { host: "0.0.0.0", port: 9000, fsync: "interval", limits: { maxBatchEvents: 50 } },
    };
    const settings = resolveSettings("serve", {
      flags: { port: "9002" },
      env: {
        SWITCHYARD_PORT: "9001",
        SWITCHYARD_HOST: "10.0.0.1",
        SWITCHYARD_MAX_BODY_BYTES: "2MiB",
      },
      file,
      cwd,
    });
    expect(settings).toMatchObject({
      port: 9002,
      host: "10.0.0.1",
      fsync: "interval",
      limits: { maxBodyBytes: 2 * 1024 * 1024, maxBatchEvents: 50 },
    });
  });

  it("reads booleans from env and the negatable flag", () => {
    expect(
      resolveSettings("serve", { flags: {}, env: { SWITCHYARD_AUTO_CREATE_TOPICS: "true" }, cwd })
        .autoCreateTopics,
    ).toBe(true);
    expect(
      resolveSettings("dev", { flags: { autoCreateTopics: false }, env: {}, cwd }).autoCreateTopics,
    ).toBe(false);
  });

  it("refuses an unknown engine, naming where it came from, as a usage error", () => {
    const attempt = () => resolveSettings("dev", { flags: { engine: "postgres" }, env: {}, cwd });
    expect(attempt).toThrow(CliFailure);
    expect(attempt).toThrow(/--engine is "postgres", not one of sqlite/);
    try {
      resolveSettings("serve", { flags: {}, env: { SWITCHYARD_ENGINE: "kafka" }, cwd });
    } catch (error) {
      expect((error as CliFailure).exitCode).toBe(EXIT_USAGE);
      expect((error as CliFailure).message).toContain("SWITCHYARD_ENGINE");
    }
  });

  it("refuses bad ports and unknown config keys", () => {
    expect(() => resolveSettings("dev", { flags: { port: "99999" }, env: {}, cwd })).toThrow(
      /--port/,
    );
    expect(() => resolveSettings("dev", { flags: { port: "http" }, env: {}, cwd })).toThrow(
      /--port/,
    );
    const file = { path: "s.json", values: { prot: 1 } };
    expect(() => resolveSettings("serve", { flags: {}, env: {}, file, cwd })).toThrow(
      /unknown setting "prot"/,
    );
  });
});

describe("loadConfigFile", () => {
  it("reads a JSON object and reports missing or malformed files as usage errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-cli-"));
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ port: 1234 }));
    expect(loadConfigFile(good).values).toEqual({ port: 1234 });
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ port: ");
    expect(() => loadConfigFile(bad)).toThrow(/not valid JSON/);
    expect(() => loadConfigFile(join(dir, "missing.json"))).toThrow(/ENOENT/);
  });
});
