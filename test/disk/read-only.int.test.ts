/**
 * A store that becomes read-only: the store's folder and files lose write permission under a
 * running child router. Writes must answer 503 `engine_unavailable` and `/readyz` 503, both
 * saying the store is not writable; reads keep working; once the permissions are back the same
 * router writes again by itself, continuing the offsets.
 *
 * Why chmod and not `mount -o remount,ro`: Linux refuses to remount a file system read-only
 * while a file on it is open for writing (EBUSY), and SQLite keeps its files open. Root ignores
 * permissions, so as root the router runs with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * dropped (setpriv): then the mode bits bind it as they bind any other user.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { type RouterProcess, startRouterProcess } from "../support/router-process.js";
import { call, events, integrityCheck, publish, publishedOf, readLog } from "./http.js";

const TOPIC = "read-only";
const NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"];

function setWritable(dataDir: string, writable: boolean): void {
  const db = join(dataDir, "switchyard.db");
  for (const file of [db, `${db}-wal`])
    if (existsSync(file)) chmodSync(file, writable ? 0o644 : 0o444);
  chmodSync(dataDir, writable ? 0o755 : 0o555);
}

describe("read-only store (SQLite)", () => {
  let router: RouterProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await router?.kill();
    if (dataDir) {
      setWritable(dataDir, true);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("answers 503 engine_unavailable and /readyz 503 with the reason, then recovers by itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-readonly-"));
    dataDir = dir;
    const root = process.getuid?.() === 0;
    const live = await startRouterProcess({ dataDir: dir, ...(root ? { wrapper: NO_DAC } : {}) });
    router = live;
    expect((await call(`${live.url}/v1/topics/${TOPIC}`, "PUT", {})).status).toBe(201);
    const before = events("before", 20, 100);
    expect((await publish(live.url, TOPIC, before)).status).toBe(201);

    setWritable(dir, false);
    // The engine looks at the permissions at most every 500 ms: wait until it has noticed.
    const ready = await eventually(
      async () => {
        const answer = await call(`${live.url}/readyz`, "GET");
        expect(answer.status).toBe(503);
        return answer;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(ready.body.code).toBe("engine_unavailable");
    expect(String(ready.body.detail)).toMatch(/store is not writable: .*EACCES/);
    const during = events("during", 20, 100);
    const refused = await publish(live.url, TOPIC, during);
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.code).toBe("engine_unavailable");
    expect(String(refused.body.detail)).toMatch(/not writable/);
    const created = await call(`${live.url}/v1/subscriptions/ro-late`, "PUT", { topic: TOPIC });
    expect(created.status).toBe(503);
    expect((await readLog(live.url, TOPIC)).length).toBe(before.length); // reads still served

    setWritable(dir, true);
    const started = Date.now();
    const stored = await eventually(
      async () => {
        const answer = await publish(live.url, TOPIC, during);
        expect(answer.status, JSON.stringify(answer.body)).toBe(201);
        return publishedOf(answer);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const recoveredMs = Date.now() - started;
    expect((await call(`${live.url}/readyz`, "GET")).status).toBe(200);
    expect(stored.map((p) => p.offset)).toEqual(during.map((_, i) => before.length + 1 + i));
    console.log(
      `read-only store: writes refused with 503, recovered ${recoveredMs} ms after chmod back`,
    );

    const log = await readLog(live.url, TOPIC);
    expect(log.map((e) => e.id)).toEqual([...before, ...during].map((e) => e.id));
    await live.stop();
    expect(integrityCheck(join(dir, "switchyard.db"))).toBe("ok");
  });
});
