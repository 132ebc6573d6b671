/**
 * The webhook receiver of the push scenarios: a keep-alive HTTP server on 127.0.0.1 in the
 * bench process that answers 204 at once and notes, per event, when it arrived. It reads the
 * benchmark fields from binary mode (the body is `data`) and from batches (an array of events).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventFields } from "./subjects/subject.ts";

export interface PushSink {
  readonly url: string;
  /** Requests answered (a batch counts once). */
  readonly requests: () => number;
  close(): Promise<void>;
}

function fieldsOf(request: IncomingMessage, body: string): EventFields[] {
  const type = request.headers["content-type"] ?? "";
  const parsed = JSON.parse(body) as unknown;
  if (type.startsWith("application/cloudevents-batch+json"))
    return (parsed as { data: EventFields }[]).map((event) => event.data);
  if (type.startsWith("application/cloudevents+json"))
    return [(parsed as { data: EventFields }).data];
  return [parsed as EventFields];
}

/** Starts the sink; `onEvent` runs for each event as its request completes. */
export async function startPushSink(onEvent: (fields: EventFields) => void): Promise<PushSink> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests++;
      response.writeHead(204).end();
      for (const fields of fieldsOf(request, Buffer.concat(chunks).toString("utf8")))
        onEvent(fields);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
