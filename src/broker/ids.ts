import { randomFillSync } from "node:crypto";

// Random bytes are drawn in blocks: one syscall per 256 ids instead of one per id.
const POOL_IDS = 256;
const pool = Buffer.alloc(10 * POOL_IDS);
let poolIndex = POOL_IDS;

function randomTen(): Buffer {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  const start = 10 * poolIndex++;
  return pool.subarray(start, start + 10);
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, "0"),
);

function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += HEX[bytes[i] ?? 0];
  return out;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids the router
 * fills in therefore sort roughly by publish time, which keeps dedupe indexes local.
 */
export function uuidv7(nowMs: number): string {
  const bytes = new Uint8Array(16);
  let ms = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes.set(randomTen(), 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return `${hex(bytes, 0, 4)}-${hex(bytes, 4, 6)}-${hex(bytes, 6, 8)}-${hex(bytes, 8, 10)}-${hex(bytes, 10, 16)}`;
}
