import { mkdirSync, readFileSync } from "node:fs";
import { CliFailure, usage } from "../fail.js";
import type { RouterSettings } from "../router-settings.js";

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
    const { tls, ...rest } = settings;
    return await startRouter({
      ...rest,
      limits: { ...settings.limits },
      ...(tls === undefined ? {} : { tls: readTls(tls) }),
    });
  } catch (error) {
    throw startFailure(error, settings);
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot read the TLS ${what} ${path} (${why})`, "check --tls-cert and --tls-key");
  }
}

function readTls(tls: NonNullable<RouterSettings["tls"]>): { cert: Buffer; key: Buffer } {
  return { cert: readPem(tls.certFile, "certificate"), key: readPem(tls.keyFile, "key") };
}

function startFailure(error: unknown, settings: RouterSettings): unknown {
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
