/**
 * Hostile WebSocket frames for the stream route, and a client that sends them and reports
 * everything the router answered: error frames, and the close code if it closed.
 */
import fc from "fast-check";
import { WebSocket } from "ws";
import {
  hostileNumber,
  hostileString,
  hostileValue,
  type JsonLike,
  toJsonText,
} from "./arbitraries.js";

export interface Frame {
  readonly label: string;
  readonly data: string | Buffer;
  readonly binary: boolean;
}

const text = (label: string, data: string | Buffer): Frame => ({ label, data, binary: false });
const OPS = ["ack", "nack", "extend", "reject"] as const;

export function hostileFrame(ackIds: readonly string[], maxPayload: number): fc.Arbitrary<Frame> {
  const realAckIds = fc.subarray([...ackIds], { minLength: 1, maxLength: 3 });
  const garbageAckId: fc.Arbitrary<JsonLike> = fc.oneof(
    hostileString,
    hostileNumber,
    fc.constantFrom(...ackIds).map((id) => `${id}x`),
    fc.constantFrom(...ackIds).map((id) => id.replace(/\./g, "")),
    fc.constantFrom("0.0.0", "zzzzzzzzzzzz.1.1", "1.1.1.0", "1.1", "-1.1.1", "1.1.1.1.1"),
  );
  const settleFrame = fc
    .record(
      {
        type: fc.constantFrom(...OPS),
        ackIds: fc.oneof(
          realAckIds as fc.Arbitrary<JsonLike>,
          fc.array(garbageAckId, { minLength: 1, maxLength: 3 }) as fc.Arbitrary<JsonLike>,
          hostileValue,
        ),
        delayMs: hostileNumber,
        leaseMs: hostileNumber,
        reason: fc.oneof(hostileString, hostileNumber),
        id: fc.oneof(fc.constantFrom<JsonLike>("s1", 7, null, {}), hostileString),
        extra: hostileValue,
      },
      { requiredKeys: ["type", "ackIds"] },
    )
    .map((f) => text(`settle ${toJsonText(f).slice(0, 80)}`, toJsonText(f)));
  return fc.oneof(
    fc
      .constantFrom("{", "not json", "", "[]", "null", "1", '"credit"', "{}", '{"type":null}')
      .map((t) => text(`text ${JSON.stringify(t)}`, t)),
    fc
      .tuple(
        fc.constantFrom(
          "credit",
          "deliveries",
          "results",
          "error",
          "ping",
          "CREDIT",
          "",
          "__proto__",
        ),
        hostileValue,
      )
      .map(([type, n]) => text(`${type} n=${toJsonText(n).slice(0, 40)}`, toJsonText({ type, n }))),
    hostileNumber.map((n) => text(`credit ${toJsonText(n)}`, toJsonText({ type: "credit", n }))),
    fc
      .integer({ min: 1, max: 3 })
      .map((n) => text(`valid credit ${n}`, JSON.stringify({ type: "credit", n }))),
    settleFrame,
    fc
      .uint8Array({ maxLength: 64 })
      .map((b) => ({ label: `binary ${b.length} bytes`, data: Buffer.from(b), binary: true })),
    fc
      .constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x7b, 0xff, 0x7d])
      .map((b) => text(`invalid UTF-8 text ${b.join(",")}`, Buffer.from(b))),
    fc
      .constantFrom(1.01, 2)
      .map((times) =>
        text(
          `frame ${times}x maxPayload`,
          `{"type":"credit","n":1,"pad":"${"a".repeat(Math.ceil(maxPayload * times))}"}`,
        ),
      ),
  );
}

export interface StreamOutcome {
  /** The HTTP status when the upgrade was refused. */
  readonly refused?: { status: number; contentType: string; body: string };
  readonly errorProblems: readonly unknown[];
  readonly closeCode?: number;
  /** The probe sent last was answered (the connection still works). */
  readonly probeAnswered: boolean;
}

/**
 * Opens a stream, sends `frames` then a probe (an unknown frame type with an id), and waits
 * for the probe's error frame or a close, within `timeoutMs`.
 */
export function runStream(
  url: string,
  frames: readonly Frame[],
  timeoutMs = 15_000,
): Promise<StreamOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const errorProblems: unknown[] = [];
    let done = false;
    const finish = (outcome: StreamOutcome | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)
        socket.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`the stream neither answered the probe nor closed within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    socket.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        finish({
          refused: {
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).toString("utf8"),
          },
          errorProblems,
          probeAnswered: false,
        }),
      );
    });
    socket.on("error", () => {
      // The close event that follows says how it ended.
    });
    socket.on("message", (data) => {
      let frame: { type?: string; id?: unknown; problem?: unknown };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        finish(
          new Error(`the router sent a frame that is not JSON: ${data.toString().slice(0, 200)}`),
        );
        return;
      }
      if (frame.type === "error") {
        errorProblems.push(frame.problem);
        if (frame.id === "probe") finish({ errorProblems, probeAnswered: true });
      }
    });
    socket.on("close", (code) => finish({ errorProblems, closeCode: code, probeAnswered: false }));
    socket.on("open", () => {
      for (const f of frames) socket.send(f.data, { binary: f.binary });
      socket.send(JSON.stringify({ type: "probe", id: "probe" }));
    });
  });
}
