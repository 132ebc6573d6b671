import { describe, expect, it } from "vitest";
import { CliFailure, EXIT_USAGE } from "./fail.js";
import { resolveNatsSettings, resolveSettings } from "./router-settings.js";

const cwd = "/srv/app";

describe("resolveSettings for --engine nats", () => {
  it("takes the NATS servers, prefix and replicas from flags, env or the config file", () => {
    const settings = resolveSettings("serve", {
      flags: { engine: "nats", natsUrl: "nats://10.0.0.1:4222,nats://10.0.0.2:4222" },
      env: { SWITCHYARD_NATS_REPLICAS: "3" },
      file: { path: "switchyard.json", values: { nats: { prefix: "SHOP" } } },
      cwd,
    });
    expect(settings).toMatchObject({
      engine: "nats",
      nats: { url: "nats://10.0.0.1:4222,nats://10.0.0.2:4222", prefix: "SHOP", replicas: 3 },
    });
  });

  it("refuses --engine nats without servers, as a usage error", () => {
    const attempt = () => resolveSettings("serve", { flags: { engine: "nats" }, env: {}, cwd });
    expect(attempt).toThrow(CliFailure);
    expect(attempt).toThrow(/--engine nats needs the NATS servers/);
    try {
      attempt();
    } catch (error) {
      expect((error as CliFailure).exitCode).toBe(EXIT_USAGE);
    }
  });

  it("leaves nats out for the embedded engine", () => {
    const settings = resolveSettings("dev", { flags: { natsUrl: "nats://x:1" }, env: {}, cwd });
    expect(settings.engine).toBe("sqlite");
    expect(settings).not.toHaveProperty("nats");
  });

  it("takes credential files as paths, the user anywhere, and the password only from env or file", () => {
    const settings = resolveSettings("serve", {
      flags: { engine: "nats", natsUrl: "nats://n:4222", natsCreds: "app.creds", natsUser: "sy" },
      env: { SWITCHYARD_NATS_PASSWORD: "s3cret", SWITCHYARD_NATS_TLS_CA: "/etc/nats/ca.pem" },
      file: { path: "switchyard.json", values: { nats: { nkeyFile: "seed.nk" } } },
      cwd,
    });
    expect(settings.nats).toEqual({
      url: "nats://n:4222",
      credsFile: "/srv/app/app.creds",
      nkeyFile: "/srv/app/seed.nk",
      tlsCaFile: "/etc/nats/ca.pem",
      user: "sy",
      password: "s3cret",
    });
    // A password flag would show in `ps`: there is none, so commander's value is ignored.
    const noFlag = resolveSettings("serve", {
      flags: { engine: "nats", natsUrl: "nats://n:4222", natsUser: "sy", natsPassword: "x" },
      env: {},
      cwd,
    });
    expect(noFlag.nats).not.toHaveProperty("password");
  });

  it("refuses a password without a user, and never echoes it", () => {
    const attempt = () =>
      resolveSettings("serve", {
        flags: { engine: "nats", natsUrl: "nats://n:4222" },
        env: { SWITCHYARD_NATS_PASSWORD: "hunter2-secret" },
        cwd,
      });
    expect(attempt).toThrow(/a NATS password was given without a user/);
    try {
      attempt();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain("hunter2-secret");
      expect((error as CliFailure).hint).not.toContain("hunter2-secret");
    }
  });
});

describe("resolveNatsSettings (keys create --engine nats)", () => {
  it("takes the nats.* settings from the same flags, env and file keys as serve", () => {
    const nats = resolveNatsSettings({
      flags: { natsUrl: "tls://n:4222", natsNkeyFile: "seed.nk", natsReplicas: "3" },
      env: { SWITCHYARD_NATS_TLS_CA: "ca.pem", SWITCHYARD_NATS_PASSWORD: "from-env" },
      file: {
        path: "switchyard.json",
        values: { port: 9000, nats: { prefix: "SHOP", user: "sy", password: "from-file" } },
      },
      cwd,
    });
    expect(nats).toEqual({
      url: "tls://n:4222",
      prefix: "SHOP",
      replicas: 3,
      nkeyFile: "/srv/app/seed.nk",
      tlsCaFile: "/srv/app/ca.pem",
      user: "sy",
      password: "from-env",
    });
  });

  it("reads no router setting: a serve environment that would refuse to start does not matter", () => {
    const nats = resolveNatsSettings({
      flags: { natsUrl: "nats://n:4222" },
      env: { SWITCHYARD_HOST: "0.0.0.0", SWITCHYARD_AUTH: "false", SWITCHYARD_PORT: "x" },
      cwd,
    });
    expect(nats).toEqual({ url: "nats://n:4222" });
  });

  it("refuses without servers, and a password without a user, never echoing it", () => {
    expect(() => resolveNatsSettings({ flags: {}, env: {}, cwd })).toThrow(
      /--engine nats needs the NATS servers/,
    );
    const attempt = () =>
      resolveNatsSettings({
        flags: { natsUrl: "nats://n:4222", natsPassword: "flag-secret" },
        env: { SWITCHYARD_NATS_PASSWORD: "env-secret" },
        cwd,
      });
    expect(attempt).toThrow(/a NATS password was given without a user/);
    try {
      attempt();
    } catch (error) {
      expect((error as CliFailure).exitCode).toBe(EXIT_USAGE);
      expect(`${(error as Error).message} ${(error as CliFailure).hint}`).not.toMatch(/secret/);
    }
  });
});
