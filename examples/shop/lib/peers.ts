/**
 * Other services' URLs. Every service binds a port the kernel picks, so a URL is known only
 * once that service runs: the launcher (fleet.ts) keeps them in the JSON file named by
 * `SERVICE_URLS_FILE` (`{"email": "http://127.0.0.1:…", "slack": null, …}`, null = not
 * started yet) and rewrites it as services start. Read on every use, never cached.
 */
import { readFileSync } from "node:fs";

export function peerUrls(): Record<string, string | null> {
  const file = process.env.SERVICE_URLS_FILE;
  if (!file) return {};
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, string | null>;
}

/**
 * The URL of `name`; undefined when no launcher gave any (the service is not part of this
 * shop); throws while it is known but not started yet, so the caller's work is retried.
 */
export function peerUrl(name: string): string | undefined {
  if (!process.env.SERVICE_URLS_FILE) return undefined;
  const url = peerUrls()[name];
  if (typeof url !== "string") throw new Error(`${name} has not started yet`);
  return url;
}
