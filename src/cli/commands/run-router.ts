import { mkdirSync, readFileSync } from "node:fs";
import { SecretKeyError } from "../../core/secret-box.js";
import type { NatsCredentials, RouterOptions } from "../../index.js";
import { CliFailure, usage } from "../fail.js";
import type { NatsSettings, RouterSettings } from "../router-settings.js";

export interface RunningRouter {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The package version, read from package.json beside `src/` or `dist/`. */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Starts the router in this process. The server is imported only here, so client commands
 * (`publish`, `tail`, ...) start without loading it.
 */
export async function startFromSettings(settings: RouterSettings): Promise<RunningRouter> {
  const { startRouter } = await import("../../index.js");
  mkdirSync(settings.dataDir, { recursive: true });
  try {
    const { tls, nats, ...rest } = settings;
    return await startRouter({
      ...rest,
      limits: { ...settings.limits },
      ...(tls === undefined ? {} : { tls: readTls(tls) }),
      ...(nats === undefined ? {} : { nats: natsOptions(nats) }),
    });
  } catch (error) {
    throw startFailure(error, settings);
  }
}

function readSettingFile(path: string, what: string, hint: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot read the ${what} ${path} (${why})`, hint);
  }
}

function readTls(tls: NonNullable<RouterSettings["tls"]>): { cert: Buffer; key: Buffer } {
  const hint = "check --tls-cert and --tls-key";
  return {
    cert: readSettingFile(tls.certFile, "TLS certificate", hint),
    key: readSettingFile(tls.keyFile, "TLS key", hint),
  };
}

/** The NATS settings with their files read: the engine gets contents, never paths. */
export function natsOptions(nats: NatsSettings): NonNullable<RouterOptions["nats"]> {
  const hint = "check the nats.* settings (docs/configuration.md)";
  const file = (path: string | undefined, what: string) =>
    path === undefined ? undefined : readSettingFile(path, what, hint);
  const creds = file(nats.credsFile, "NATS credentials file");
  const nkeySeed = file(nats.nkeyFile, "NATS nkey seed file");
  const tlsCa = file(nats.tlsCaFile, "NATS TLS CA file");
  const credentials: NatsCredentials = {
    ...(creds === undefined ? {} : { creds }),
    ...(nkeySeed === undefined ? {} : { nkeySeed }),
    ...(tlsCa === undefined ? {} : { tlsCa: tlsCa.toString("utf8") }),
    ...(nats.user === undefined ? {} : { user: nats.user }),
    ...(nats.password === undefined ? {} : { password: nats.password }),
  };
  return {
    url: nats.url,
    ...(nats.prefix === undefined ? {} : { prefix: nats.prefix }),
    ...(nats.replicas === undefined ? {} : { replicas: nats.replicas }),
    credentials,
  };
}

function startFailure(error: unknown, settings: RouterSettings): unknown {
  if (error instanceof SecretKeyError)
    return usage(
      error.message,
      "see docs/configuration.md (secretKeyFile, SWITCHYARD_SECRET_KEY) and docs/push.md (rotation)",
    );
  if (error instanceof Error && error.name === "StartRefused" && "hint" in error)
    return usage(error.message, String(error.hint));
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && code.startsWith("ERR_OSSL"))
    return usage(
      `the TLS certificate or key is not usable: ${(error as Error).message}`,
      "pass a PEM certificate chain (--tls-cert) and the private key that matches it (--tls-key)",
    );
  if (code === "EADDRINUSE")
    return new CliFailure(
      "conflict",
      `${settings.host}:${settings.port} is already in use`,
      "stop the other process, or pass --port <n> (0 picks a free port)",
      { shownCode: code },
    );
  if (code === "EACCES" || code === "EADDRNOTAVAIL")
    return new CliFailure(
      "invalid_request",
      `cannot listen on ${settings.host}:${settings.port}`,
      "pick another --host or --port",
      { shownCode: code },
    );
  return error;
}

/**
 * Resolves after the first SIGINT or SIGTERM, once the router has closed (in-flight commits
 * finished). A second signal while closing exits at once.
 */
export function closeOnSignal(router: RunningRouter, say: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (closing) {
        say(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      closing = true;
      say(`${signal}: closing the router…`);
      router.close().then(() => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      }, reject);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
