/**
 * Hostile headers, by input class. Each class is an arbitrary of header lists that a
 * request gains in addition to (or instead of) its valid headers. A new class (hostile
 * credentials, once access control lands) is one more entry in `HEADER_CLASSES`.
 */
import fc from "fast-check";
import { hostileString } from "./arbitraries.js";

export type HeaderList = readonly (readonly [string, Buffer | string])[];

export interface HeaderMutation {
  readonly label: string;
  readonly headers: HeaderList;
  /** The request's own `content-type` is left out (this mutation sends its own or none). */
  readonly replacesContentType?: boolean;
  /** The client adds no `content-length` (this mutation frames the body itself). */
  readonly replacesFraming?: boolean;
  /** Re-frames the body (chunked encoding, good or broken). */
  readonly reframe?: (body: Buffer) => Buffer;
}

const chunk = (body: Buffer, size = body.length.toString(16)) =>
  body.length === 0
    ? Buffer.from("0\r\n\r\n")
    : Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/json;",
  "application/json; ;;; a",
  "application/cloudevents+json",
  "application/cloudevents+json; charset=utf-16",
  "application/cloudevents-batch+json",
  "application/problem+json",
  "text/plain",
  "text/json",
  "application/octet-stream",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "*/*",
  "application/*",
  "",
  " ",
  ";",
  "application/json, text/plain",
  "application/\u00e9",
  "x".repeat(5_000),
];

const contentType: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.constantFrom(...CONTENT_TYPES).map((value) => ({
    label: `content-type ${JSON.stringify(value.slice(0, 60))}`,
    headers: [["content-type", value]] as const,
    replacesContentType: true,
  })),
  fc.constant({ label: "no content-type", headers: [], replacesContentType: true }),
  fc.tuple(fc.constantFrom(...CONTENT_TYPES), fc.constantFrom(...CONTENT_TYPES)).map(([a, b]) => ({
    label: "two content-types",
    headers: [
      ["content-type", a],
      ["content-type", b],
    ] as const,
    replacesContentType: true,
  })),
);

/** Bytes HTTP forbids in a field value or name: the parser must refuse them with a problem. */
const injection: fc.Arbitrary<HeaderMutation> = fc
  .constantFrom(
    ["x-fuzz", Buffer.from("a\r\nx-injected: 1")],
    ["x-fuzz", Buffer.from("a\rb")],
    ["x-fuzz", Buffer.from("a\nb")],
    ["x-fuzz", Buffer.from("a\u0000b")],
    ["x-fuzz", Buffer.from([0x61, 0x7f, 0x62])],
    ["x-fuzz", Buffer.from([0xff, 0xfe])],
    ["x fuzz", Buffer.from("a")],
    ["x-fuzz:", Buffer.from("a")],
    ["", Buffer.from("a")],
    ["x-fuzz\u0000", Buffer.from("a")],
    ["x-fuzz", Buffer.from("a\r\n folded")],
    ["x-fuzz", Buffer.from("a\r\n\r\nGET /v1/topics HTTP/1.1\r\nhost: x")],
    ["content-type", Buffer.from("application/json\r\nx-injected: 1")],
    ["host", Buffer.from("")],
    ["host", Buffer.from("a b")],
  )
  .map(([name, value]) => ({
    label: `header injection ${JSON.stringify(name)}: ${JSON.stringify(value.toString("latin1").slice(0, 40))}`,
    headers: [[name as string, value as Buffer]] as const,
  }));

/** Oversized headers: one huge value, or very many headers. */
const size: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.constantFrom(8_000, 20_000, 70_000).map((n) => ({
    label: `one ${n}-byte header`,
    headers: [["x-fuzz", "a".repeat(n)]] as const,
  })),
  fc.constantFrom(200, 3_000).map((n) => ({
    label: `${n} headers`,
    headers: Array.from({ length: n }, (_, i) => [`x-fuzz-${i}`, "a"] as const),
  })),
);

/**
 * Framing that disagrees with the body: the parser must refuse, not desynchronise. Every
 * variant sends a whole request (a request that promises more bytes than it sends is rightly
 * waited for, until the request timeout).
 */
const framing: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc
    .constantFrom<[string, string][]>(
      [["content-length", "-1"]],
      [["content-length", "abc"]],
      [["content-length", "1, 2"]],
      [
        ["content-length", "0"],
        ["content-length", "5"],
      ],
      [["content-length", "99999999999999999999"]],
      [["transfer-encoding", "gzip"]],
      [["transfer-encoding", "chunked, identity"]],
      [
        ["transfer-encoding", "chunked"],
        ["content-length", "3"],
      ],
      [["content-length", "0"]],
    )
    .map((headers) => ({
      label: `framing ${headers.map(([k, v]) => `${k}: ${v}`).join("; ")}`,
      headers,
      replacesFraming: true,
    })),
  fc
    .constantFrom<[string, (body: Buffer) => Buffer]>(
      ["chunked", (body) => chunk(body)],
      ["chunked with an extension", (body) => chunk(body, `${body.length.toString(16)};x=y`)],
      ["chunked with a bad size", (body) => chunk(Buffer.concat([body, Buffer.from("x")]), "zz")],
      ["chunked, size too small", (body) => chunk(Buffer.concat([body, Buffer.from("xyz")]), "1")],
    )
    .map(([label, reframe]) => ({
      label: `framing ${label}`,
      headers: [["transfer-encoding", "chunked"]] as const,
      replacesFraming: true,
      reframe,
    })),
  fc
    .constantFrom<[string, string][]>(
      [["content-encoding", "gzip"]],
      [["expect", "100-continue"]],
      [["expect", "something-else"]],
    )
    .map((headers) => ({ label: `framing ${headers[0]?.join(": ")}`, headers })),
);

/** Headers the router reads or might: connection handling, upgrades, forwarding, tracing. */
const semantic: fc.Arbitrary<HeaderMutation> = fc
  .tuple(
    fc.constantFrom(
      "connection",
      "upgrade",
      "sec-websocket-key",
      "sec-websocket-version",
      "x-forwarded-for",
      "forwarded",
      "traceparent",
      "tracestate",
      "accept",
      "accept-encoding",
      "user-agent",
      "origin",
      "x-http-method-override",
      "authorization",
      "cookie",
      "range",
      "if-none-match",
    ),
    hostileString.map((s) => Buffer.from(s.replace(/[\r\n\0]/g, ""), "utf8")),
  )
  .map(([name, value]) => ({
    label: `${name}: ${JSON.stringify(value.toString("utf8").slice(0, 40))}`,
    headers: [[name, value]] as const,
  }));

/**
 * Hostile credentials are not an input class yet: the router has no access control. When
 * it lands, add `credentials` to `HEADER_CLASSES` (malformed `Authorization`, unknown,
 * expired and revoked keys, two Authorization headers) and assert 401 `unauthenticated`.
 */
export const HEADER_CLASSES: Readonly<Record<string, fc.Arbitrary<HeaderMutation>>> = {
  contentType,
  injection,
  size,
  framing,
  semantic,
};

export const hostileHeaders: fc.Arbitrary<HeaderMutation> = fc.oneof(
  ...Object.values(HEADER_CLASSES),
);

/** Percent-encoding tricks in binary-mode `ce-*` values (the CloudEvents HTTP binding). */
const ceValue: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      "%",
      "%2",
      "%zz",
      "%00",
      "a%00b",
      "%C0%80",
      "%C0%AE",
      "%ED%A0%80",
      "%F4%90%80%80",
      "%FF%FE",
      "%E2%80%AE",
      "%25",
      "%2525",
      "%2e%2e%2F%2e%2e",
      "%0D%0Ax-injected:%201",
      "%22%7D",
      "1.0%00",
      "%31%2E%30",
      "",
      " ",
      "2026-12-03T10:00:00Z",
      "2026-13-03T10:00:00Z",
      "9999-12-31T23:59:59Z",
      "1.0",
      "0.3",
    )
    .map((s) => Buffer.from(s, "latin1")),
  fc.constantFrom(1_000, 12_000).map((n) => Buffer.from("%41".repeat(n))),
  hostileString.map((s) => Buffer.from(s.replace(/[\r\n\0]/g, ""), "utf8")),
);

const CE_ATTRIBUTES = [
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "dataschema",
  "partitionkey",
  "traceparent",
  "deliverat",
  "offset",
  "topic",
  "appendedat",
  "data",
  "data_base64",
  "datacontenttype",
  "",
  "UPPER",
  "with-dash",
  "x".repeat(300),
];

/** One hostile `ce-*` header: a bad value for a known attribute, or an odd attribute name. */
export const hostileCeHeader: fc.Arbitrary<HeaderMutation> = fc
  .tuple(fc.constantFrom(...CE_ATTRIBUTES), ceValue, fc.boolean())
  .map(([attribute, value, twice]) => ({
    label: `ce-${attribute.slice(0, 20)}: ${JSON.stringify(value.toString("latin1").slice(0, 40))}${twice ? " (twice)" : ""}`,
    headers: twice
      ? [
          [`ce-${attribute}`, value],
          [`ce-${attribute}`, value],
        ]
      : [[`ce-${attribute}`, value]],
  }));
