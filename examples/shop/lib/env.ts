/** Every service is configured by environment variables; the launcher sets them. */
import { join } from "node:path";

export function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`environment variable ${name} is required`);
  return value;
}

export interface ServiceEnv {
  /** The router, e.g. http://127.0.0.1:8420. */
  readonly routerUrl: string;
  /** This service's HTTP port (state page, webhooks). */
  readonly port: number;
  /** Where this service keeps its own files. */
  readonly dataDir: string;
}

export function serviceEnv(name: string): ServiceEnv {
  return {
    routerUrl: env("SWITCHYARD_URL", "http://127.0.0.1:8420"),
    port: Number(env("PORT", "0")),
    dataDir: env("DATA_DIR", join(".switchyard", "demo", name)),
  };
}
