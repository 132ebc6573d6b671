/**
 * Pipelined requests on the engine's own inbox: publish every request at once, collect the
 * replies by index. A reply that does not come within the timeout is `undefined` (the caller
 * decides whether that is an error), so one slow reply never hides the others.
 */
import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import type { Inbox } from "./inbox.js";

export interface OutgoingRequest {
  readonly subject: string;
  readonly data?: Uint8Array | string;
  readonly headers?: MsgHdrs;
}

export function requestAll(
  nc: NatsConnection,
  inbox: Inbox,
  requests: readonly OutgoingRequest[],
  timeoutMs: number,
): Promise<(Msg | undefined)[]> {
  // Dense, never `new Array(n)`: a reply that never came must be an `undefined` that
  // forEach and map visit, not a hole they skip (a skipped PubAck once answered 201 for an
  // event JetStream never confirmed).
  const replies = Array.from<Msg | undefined>({ length: requests.length });
  if (requests.length === 0) return Promise.resolve(replies);
  return new Promise((resolve) => {
    let left = requests.length;
    const finish = () => {
      clearTimeout(timer);
      reply.close();
      resolve(replies);
    };
    const reply = inbox.open((msg, rest) => {
      const index = Number.parseInt(rest, 36);
      if (!(index >= 0 && index < replies.length) || replies[index] !== undefined) return;
      replies[index] = msg;
      if (--left === 0) finish();
    });
    const timer = setTimeout(finish, timeoutMs);
    try {
      requests.forEach((r, i) => {
        const options = { reply: `${reply.subject}.${i.toString(36)}` };
        nc.publish(
          r.subject,
          r.data ?? "",
          r.headers === undefined ? options : { ...options, headers: r.headers },
        );
      });
    } catch {
      // A closed or draining connection: the missing replies report it.
      finish();
    }
  });
}

/** One request; `undefined` when no reply came in time. */
export async function requestOne(
  nc: NatsConnection,
  inbox: Inbox,
  request: OutgoingRequest,
  timeoutMs: number,
): Promise<Msg | undefined> {
  const [reply] = await requestAll(nc, inbox, [request], timeoutMs);
  return reply;
}
