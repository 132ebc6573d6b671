/** Every service is configured by environment variables; the launcher sets them. */
import { join } from "node:path";
import { createClient, type SwitchyardClient } from "switchyard/client";
import type { EventMap } from "./events.ts";

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
  /** This service's own key (`SWITCHYARD_API_KEY`); absent against a router without auth. */
  readonly apiKey: string | undefined;
}

export function serviceEnv(name: string): ServiceEnv {
  return {
    routerUrl: env("SWITCHYARD_URL", "http://127.0.0.1:8420"),
    port: Number(env("PORT", "0")),
    dataDir: env("DATA_DIR", join(".switchyard", "demo", name)),
    apiKey: process.env.SWITCHYARD_API_KEY,
  };
}

/**
 * The SDK client of a service, authenticated with its own key, typed by the shop's events:
 * it publishes only their types, each with its `data`.
 */
export function routerClient(service: ServiceEnv, source: string): SwitchyardClient<EventMap> {
  return createClient<EventMap>({
    url: service.routerUrl,
    source,
    ...(service.apiKey === undefined ? {} : { apiKey: service.apiKey }),
  });
}
