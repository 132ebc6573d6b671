/**
 * A fake SMS provider that fails now and then, like real ones do. Failures come from a seeded
 * pseudo-random sequence (mulberry32), so a run is repeatable. Like real providers it takes
 * an idempotency key: sending the same key twice delivers one message.
 */
import { appendFileSync } from "node:fs";

export interface SmsProvider {
  /** Throws when the provider "fails" (the caller retries). */
  send(key: string, to: string, text: string): void;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function fakeSmsProvider(logFile: string, seed: number, failureRate: number): SmsProvider {
  const random = mulberry32(seed);
  const delivered = new Set<string>();
  return {
    send(key, to, text) {
      if (random() < failureRate) throw new Error("SMS provider: 503 try again later");
      if (delivered.has(key)) return;
      delivered.add(key);
      appendFileSync(logFile, `${JSON.stringify({ key, to, text })}\n`);
    },
  };
}
