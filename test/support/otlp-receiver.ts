/**
 * An OTLP/HTTP trace receiver on 127.0.0.1: accepts `POST /v1/traces` as JSON
 * (`application/json`) or protobuf (`application/x-protobuf`, decoded here by the OTLP
 * `.proto` field numbers) and keeps every span with its resource's attributes.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedSpan {
  /** The resource's `service.name`. */
  readonly service: string;
  /** The resource's attributes. */
  readonly resource: Readonly<Record<string, unknown>>;
  readonly traceId: string;
  readonly spanId: string;
  /** "" for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

export interface OtlpReceiver {
  /** The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  readonly contentTypes: string[];
  /** Requests that were not OTLP trace exports (wrong path, type or body). */
  readonly rejected: string[];
  close(): Promise<void>;
}

// --- protobuf: only the wire format (tag, varint, length-delimited, fixed) -------------------

type Field = bigint | Buffer;
type Message = Map<number, Field[]>;

function varint(buf: Buffer, at: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at.pos++] ?? 0;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
}

function decode(buf: Buffer): Message {
  const fields: Message = new Map();
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const tag = Number(varint(buf, at));
    const [field, wire] = [tag >>> 3, tag & 7];
    let value: Field;
    if (wire === 0) value = varint(buf, at);
    else if (wire === 2) {
      const length = Number(varint(buf, at));
      value = buf.subarray(at.pos, at.pos + length);
      at.pos += length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      value = buf.subarray(at.pos, at.pos + size);
      at.pos += size;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

const bytesOf = (m: Message, f: number): Buffer =>
  (m.get(f)?.[0] as Buffer | undefined) ?? Buffer.alloc(0);
const messages = (m: Message, f: number): Message[] =>
  (m.get(f) ?? []).map((b) => decode(b as Buffer));
const numberOf = (m: Message, f: number): number =>
  Number((m.get(f)?.[0] as bigint | undefined) ?? 0n);

function anyValue(m: Message): unknown {
  if (m.has(1)) return bytesOf(m, 1).toString("utf8");
  if (m.has(2)) return numberOf(m, 2) === 1;
  if (m.has(3)) return numberOf(m, 3);
  if (m.has(4)) return bytesOf(m, 4).readDoubleLE(0);
  return undefined;
}

function protoAttributes(list: Message[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const value = messages(kv, 2)[0];
    out[bytesOf(kv, 1).toString("utf8")] = value === undefined ? undefined : anyValue(value);
  }
  return out;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of messages(decode(body), 1)) {
    const head = messages(resourceSpans, 1)[0];
    const resource = protoAttributes(head ? messages(head, 1) : []);
    const service = String(resource["service.name"]);
    for (const scope of messages(resourceSpans, 2))
      for (const span of messages(scope, 2)) {
        const status = messages(span, 15)[0];
        spans.push({
          service,
          resource,
          traceId: bytesOf(span, 1).toString("hex"),
          spanId: bytesOf(span, 2).toString("hex"),
          parentSpanId: bytesOf(span, 4).toString("hex"),
          name: bytesOf(span, 5).toString("utf8"),
          kind: numberOf(span, 6),
          attributes: protoAttributes(messages(span, 9)),
          links: messages(span, 13).map((l) => ({
            traceId: bytesOf(l, 1).toString("hex"),
            spanId: bytesOf(l, 2).toString("hex"),
          })),
          status: status === undefined ? 0 : numberOf(status, 3),
        });
      }
  }
  return spans;
}

// --- JSON (OTLP/JSON: ids as hex strings, enums as numbers, int64 maybe as strings) ----------

interface KeyValue {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

function plain(value: Record<string, unknown>): unknown {
  if ("stringValue" in value) return value.stringValue;
  if ("boolValue" in value) return value.boolValue;
  if ("doubleValue" in value) return value.doubleValue;
  if ("intValue" in value) return Number(value.intValue);
  return value;
}

function jsonAttributes(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

interface JsonSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly KeyValue[];
  readonly links?: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly status?: { readonly code?: number };
}

interface ExportBody {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly KeyValue[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly JsonSpan[] }[];
  }[];
}

function fromJson(body: ExportBody): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    const service = String(resource["service.name"]);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          service,
          resource,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          attributes: jsonAttributes(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: s.status?.code ?? 0,
        });
  }
  return out;
}

function parse(type: string, body: Buffer): ReceivedSpan[] {
  if (type.includes("protobuf")) return fromProtobuf(body);
  if (type.includes("json")) return fromJson(JSON.parse(body.toString("utf8")) as ExportBody);
  throw new Error(`unsupported content type ${type}`);
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const rejected: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const type = req.headers["content-type"] ?? "";
      contentTypes.push(type);
      try {
        if (req.method !== "POST" || req.url !== "/v1/traces")
          throw new Error(`${req.method} ${req.url}`);
        spans.push(...parse(type, Buffer.concat(chunks)));
      } catch (error) {
        rejected.push(`${type}: ${String(error)}`);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { "content-type": type }).end(type.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
