/**
 * A raw HTTP/1.1 client over a TCP socket, so the fuzzer can send what `fetch` refuses to:
 * CR/LF and NUL in headers, duplicate headers, invalid UTF-8 in the target, mismatched
 * framing. One connection per request; the answer is read until it is complete (by
 * `content-length`, chunked framing or the server closing), within a deadline.
 */
import { connect } from "node:net";

export interface RawRequest {
  readonly method: string;
  /** The request target as bytes on the wire (may be invalid UTF-8). */
  readonly target: Buffer;
  /** In order; duplicates and raw bytes allowed. */
  readonly headers: readonly (readonly [string, Buffer | string])[];
  readonly body: Buffer;
  /** Leave out the `content-length` the client would add (a header mutation sets its own). */
  readonly noContentLength?: boolean;
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class RawHttpError extends Error {}

export function encodeRequest(request: RawRequest): Buffer {
  const lines: Buffer[] = [
    Buffer.from(`${request.method} `, "latin1"),
    request.target,
    Buffer.from(" HTTP/1.1\r\n", "latin1"),
  ];
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const framing: [string, string][] = [];
  if (!names.has("host")) framing.push(["host", "127.0.0.1"]);
  if (!names.has("connection")) framing.push(["connection", "close"]);
  if (!request.noContentLength && !names.has("content-length") && !names.has("transfer-encoding"))
    framing.push(["content-length", String(request.body.length)]);
  for (const [name, value] of [...framing, ...request.headers])
    lines.push(
      Buffer.from(`${name}: `, "latin1"),
      typeof value === "string" ? Buffer.from(value, "latin1") : value,
      Buffer.from("\r\n", "latin1"),
    );
  lines.push(Buffer.from("\r\n", "latin1"), request.body);
  return Buffer.concat(lines);
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = "", ...lines] = head.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null)
    throw new RawHttpError(`not an HTTP status line: ${statusLine.slice(0, 200)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new RawHttpError(`malformed header line: ${line.slice(0, 200)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(match[1]), headers };
}

/** The body of a chunked message, or null while incomplete. */
function dechunk(data: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (Number.isNaN(size)) throw new RawHttpError("malformed chunk size");
    if (size === 0) return data.indexOf("\r\n", eol + 2) < 0 ? null : Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return null;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function complete(data: Buffer, ended: boolean, method: string): RawResponse | null {
  const split = data.indexOf("\r\n\r\n");
  if (split < 0) {
    if (ended)
      throw new RawHttpError(`connection closed before a full answer (${data.length} bytes)`);
    return null;
  }
  const { status, headers } = parseHead(data.subarray(0, split).toString("latin1"));
  const rest = data.subarray(split + 4);
  // An interim 100 Continue precedes the real answer; 101 switches protocols: no body follows.
  if (status === 100) return complete(rest, ended, method);
  if (status === 101) return { status, headers, body: Buffer.alloc(0) };
  if (method === "HEAD" || status === 204 || status === 304)
    return { status, headers, body: Buffer.alloc(0) };
  if (headers["transfer-encoding"]?.includes("chunked")) {
    const body = dechunk(rest);
    if (body === null && ended) throw new RawHttpError("connection closed inside a chunked body");
    return body === null ? null : { status, headers, body };
  }
  const length = headers["content-length"];
  if (length !== undefined) {
    const n = Number(length);
    if (rest.length >= n) return { status, headers, body: rest.subarray(0, n) };
    if (ended) throw new RawHttpError(`connection closed after ${rest.length} of ${n} body bytes`);
    return null;
  }
  return ended ? { status, headers, body: rest } : null;
}

/** Sends one request on a fresh connection; rejects on a hang (no full answer in `timeoutMs`). */
export function send(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | null, response?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== null) reject(error);
      else if (response !== undefined) resolve(response);
    };
    const timer = setTimeout(
      () => finish(new RawHttpError(`no complete answer within ${timeoutMs} ms (a hang)`)),
      timeoutMs,
    );
    const check = (ended: boolean) => {
      try {
        const response = complete(Buffer.concat(chunks), ended, request.method);
        if (response !== null) finish(null, response);
      } catch (error) {
        finish(error as Error);
      }
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      check(false);
    });
    socket.on("end", () => check(true));
    // A reset after the server answered and closed still leaves a readable answer.
    socket.on("error", (error) => {
      if (chunks.length > 0) check(true);
      finish(new RawHttpError(`socket error: ${error.message}`));
    });
    socket.on("close", () => check(true));
    socket.write(encodeRequest(request));
  });
}
