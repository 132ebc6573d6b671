import { describe, expect, it } from "vitest";
import type { Admin } from "./admin.js";
import type { SettleResult } from "./resources.js";
import { StreamSettler } from "./settler.js";
import type { ClientFrame } from "./stream.js";

interface HttpCall {
  readonly verb: string;
  readonly ackIds: readonly string[];
  readonly extra?: unknown;
}

/** A socket that records frames (or refuses them), and an admin that records HTTP settles. */
function harness(open = true) {
  const frames: ClientFrame[] = [];
  const http: HttpCall[] = [];
  const ok = (ackIds: readonly string[]): Promise<SettleResult[]> =>
    Promise.resolve(ackIds.map((ackId) => ({ ackId, status: "ok" as const })));
  const record = (verb: string, ackIds: readonly string[], extra?: unknown) => {
    http.push(extra === undefined ? { verb, ackIds } : { verb, ackIds, extra });
    return ok(ackIds);
  };
  const admin = {
    ack: (_s: string, ackIds: readonly string[]) => record("ack", ackIds),
    nack: (_s: string, ackIds: readonly string[], delayMs?: number) =>
      record("nack", ackIds, delayMs),
    extend: (_s: string, ackIds: readonly string[]) => record("extend", ackIds),
    reject: (_s: string, ackIds: readonly string[], reason: string) =>
      record("reject", ackIds, reason),
  } as unknown as Admin;
  const sink = {
    send: (frame: ClientFrame) => {
      if (open) frames.push(frame);
      return open;
    },
  };
  return { frames, http, settler: new StreamSettler(sink, admin, "sub", 10_000) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("StreamSettler", () => {
  it("runs afterFlush callbacks right after the turn's frames are sent, only when some are queued", async () => {
    const { frames, settler } = harness();
    expect(settler.afterFlush(() => {})).toBe(false);
    void settler.settle("a", { type: "ack" });
    const seen: number[] = [];
    expect(settler.afterFlush(() => seen.push(frames.length))).toBe(true);
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual([1]);
    expect(settler.afterFlush(() => {})).toBe(false);
  });

  it("sends everything settled in one turn as one frame per kind, and answers by frame id", async () => {
    const { frames, settler } = harness();
    const a = settler.settle("a", { type: "ack" });
    const b = settler.settle("b", { type: "ack" });
    const c = settler.settle("c", { type: "nack", delayMs: 50 });
    void settler.settle("d", { type: "extend", leaseMs: 900 }).catch(() => {});
    await tick();
    expect(frames).toEqual([
      { type: "ack", id: 1, ackIds: ["a", "b"] },
      { type: "nack", id: 2, ackIds: ["c"], delayMs: 50 },
      { type: "extend", id: 3, ackIds: ["d"], leaseMs: 900 },
    ]);
    settler.onResults(1, [
      { ackId: "a", status: "ok" },
      { ackId: "b", status: "expired" },
    ]);
    settler.onResults(2, [{ ackId: "c", status: "ok" }]);
    expect(await Promise.all([a, b, c])).toEqual(["ok", "expired", "ok"]);
  });

  it("settles over HTTP when the socket is not open", async () => {
    const { http, settler } = harness(false);
    const status = settler.settle("a", { type: "reject", reason: "bad" });
    expect(await status).toBe("ok");
    expect(http).toEqual([{ verb: "reject", ackIds: ["a"], extra: "bad" }]);
  });

  it("re-sends over HTTP what the socket had not answered when it dropped", async () => {
    const { http, settler } = harness();
    const pending = settler.settle("a", { type: "ack" });
    await tick();
    settler.onDisconnect();
    expect(await pending).toBe("ok");
    expect(http).toEqual([{ verb: "ack", ackIds: ["a"] }]);
  });

  it("tries a 5xx error frame again over HTTP, and fails the settles of a 4xx one", async () => {
    const { http, settler } = harness();
    const retried = settler.settle("a", { type: "ack" });
    await tick();
    expect(settler.onError(1, { status: 503, code: "engine_unavailable" })).toBe(true);
    expect(await retried).toBe("ok");
    expect(http).toHaveLength(1);

    const refused = settler.settle("b", { type: "ack" });
    await tick();
    settler.onError(2, { status: 400, code: "invalid_ack_id" });
    await expect(refused).rejects.toMatchObject({ code: "invalid_ack_id" });
    expect(settler.onError(99, { status: 400, code: "invalid_request" })).toBe(false);
  });

  it("idle() resolves once every settle is answered", async () => {
    const { settler } = harness();
    let idle = false;
    const pending = settler.settle("a", { type: "extend" });
    const waiting = settler.idle(5_000).then(() => {
      idle = true;
    });
    await tick();
    expect(idle).toBe(false);
    settler.onResults(1, [{ ackId: "a", status: "ok" }]);
    await Promise.all([pending, waiting]);
    expect(idle).toBe(true);
  });
});
