/**
 * Hostile values for the API fuzzer. Requests start valid and carry one mutation (more
 * effective than pure noise: the mutation reaches the validator that should catch it).
 * JSON is serialised here, not with JSON.stringify, so a value can carry raw number text
 * (`1e400`, `9223372036854775808`), nesting deeper than any stack, and duplicate keys.
 */
import fc from "fast-check";

/** JSON text placed verbatim where a value goes. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type JsonLike =
  | null
  | boolean
  | number
  | string
  | RawJson
  | readonly JsonLike[]
  | { readonly [key: string]: JsonLike };

export function toJsonText(value: JsonLike | undefined): string {
  if (value === undefined) return "";
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v)).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

const repeat = (text: string, n: number) => text.repeat(n);

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, never a throw). */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8"))
    out += /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** Nesting deeper than a recursive validator's stack: generic, and in the filter dialects. */
export const deepJson: fc.Arbitrary<RawJson> = fc
  .record({
    depth: fc.constantFrom(64, 2_000, 20_000),
    shape: fc.constantFrom("array", "object", "not", "all", "any"),
  })
  .map(({ depth, shape }) => {
    const leaf = '{"exact":{"type":"fuzz.seeded"}}';
    switch (shape) {
      case "array":
        return new RawJson(repeat("[", depth) + repeat("]", depth));
      case "object":
        return new RawJson(`${repeat('{"a":', depth)}1${repeat("}", depth)}`);
      case "not":
        return new RawJson(repeat('{"not":', depth) + leaf + repeat("}", depth));
      case "all":
        return new RawJson(repeat('{"all":[', depth) + leaf + repeat("]}", depth));
      default:
        return new RawJson(repeat('{"any":[', depth) + leaf + repeat("]}", depth));
    }
  });

/** Numbers at and past every edge: negative, fractional, 2^53, 2^63, overflow to Infinity. */
export const hostileNumber: fc.Arbitrary<JsonLike> = fc.oneof(
  fc.constantFrom<JsonLike>(
    -1,
    0,
    -0,
    1.5,
    0.1,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    -(2 ** 63),
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    new RawJson("9223372036854775808"),
    new RawJson("-9223372036854775809"),
    new RawJson("18446744073709551616"),
    new RawJson("1e400"),
    new RawJson("-1e400"),
    new RawJson("1E+2"),
    new RawJson("0.0000000000000000000000000001"),
    new RawJson("1.0"),
  ),
  fc.integer({ min: -1_000_000_000, max: -1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Strings aimed at names, paths, headers and parsers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "..",
    "../..",
    "../../etc/passwd",
    "%2e%2e",
    "%2E%2E%2F",
    "a/b",
    "a%2Fb",
    "\u0000",
    "a\u0000b",
    "\uD800",
    "\uDFFF\uD800",
    "\uFEFF",
    "\u202E",
    "é",
    "😀",
    "\r\nx-injected: 1",
    "\n",
    "<script>alert(1)</script>",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
    "${7*7}",
    "'; DROP TABLE events; --",
    "__proto__",
    "constructor",
    "null",
    "undefined",
    "NaN",
    "Infinity",
    "-1",
    "9223372036854775808",
    "1e400",
    "true",
    "latest",
    "earliest",
    "2026-13-45T99:99:99Z",
    "0000-00-00T00:00:00Z",
    "http://169.254.169.254/latest/meta-data",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "whsec_",
    "whsec_!!!!",
  ),
  fc.constantFrom(201, 1_025, 20_000).map((n) => "a".repeat(n)),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 20 }),
);

/** Any hostile JSON value: wrong types, edge numbers, hostile strings, odd shapes, deep nesting. */
export const hostileValue: fc.Arbitrary<JsonLike> = fc.oneof(
  { weight: 3, arbitrary: hostileNumber },
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom<JsonLike>(null, true, false, [], {}, [null], { "": 1 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonLike> },
  { weight: 1, arbitrary: deepJson },
  {
    weight: 1,
    arbitrary: fc.constantFrom(10_001, 100_000).map((n) => Array.from({ length: n }, () => 1)),
  },
);

type Path = readonly (string | number)[];

/** Every place in a JSON value a mutation can aim at (the root included). */
function pathsOf(value: JsonLike, at: Path = []): Path[] {
  const here = [at];
  if (value instanceof RawJson || value === null || typeof value !== "object") return here;
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...at, i]))];
  return [
    ...here,
    ...Object.entries(value).flatMap(([k, v]) => pathsOf(v as JsonLike, [...at, k])),
  ];
}

type Edit = (old: JsonLike | undefined) => JsonLike | undefined;

function editAt(value: JsonLike, path: Path, edit: Edit): JsonLike | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return edit(value);
  if (Array.isArray(value)) {
    const copy = [...value];
    const next = editAt(copy[head as number] as JsonLike, rest, edit);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy: Record<string, JsonLike> = { ...(value as Record<string, JsonLike>) };
  const next = editAt(copy[head as string] as JsonLike, rest, edit);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

export interface BodyMutation {
  readonly label: string;
  readonly text: string | Buffer;
}

/** One mutation of a valid JSON body, as body text (or bytes). */
export function mutatedBody(valid: JsonLike, maxBodyBytes: number): fc.Arbitrary<BodyMutation> {
  const paths = pathsOf(valid);
  const path = fc.constantFrom(...paths);
  const validText = toJsonText(valid);
  const objectPaths = paths.filter((p) => {
    let v: unknown = valid;
    for (const k of p) v = (v as Record<string | number, unknown>)[k];
    return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RawJson);
  });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(path, hostileValue).map(([p, v]) => ({
        label: `value at /${p.join("/")}`,
        text: toJsonText(editAt(valid, p, () => v) ?? null),
      })),
    },
    {
      weight: 2,
      arbitrary: path.map((p) => ({
        label: `removed /${p.join("/")}`,
        text: toJsonText(editAt(valid, p, () => undefined) ?? null),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...(objectPaths.length > 0 ? objectPaths : [[]])),
          fc.constantFrom("unknownField", "__proto__", "constructor", "", "$ref", "offset"),
          hostileValue,
        )
        .map(([p, key, v]) => ({
          label: `unknown field ${JSON.stringify(key)} at /${p.join("/")}`,
          text: toJsonText(
            editAt(valid, p, (old) =>
              typeof old === "object" && old !== null && !Array.isArray(old)
                ? { ...(old as Record<string, JsonLike>), [key]: v }
                : { [key]: v },
            ) ?? null,
          ),
        })),
    },
    { weight: 3, arbitrary: rawBody(validText, maxBodyBytes) },
  );
}

/** Bodies broken below the JSON value: syntax, encoding, size, duplicate keys. */
export function rawBody(validText: string, maxBodyBytes: number): fc.Arbitrary<BodyMutation> {
  const bytes = Buffer.from(validText, "utf8");
  return fc.oneof(
    fc
      .constantFrom(
        "{",
        "}",
        "[",
        '{"a":}',
        "{'a':1}",
        '{"a":1,}',
        "nul",
        "NaN",
        "Infinity",
        "undefined",
        '"\\ud800"',
        '"\\u00"',
        "\u0000",
        "  ",
        "[]",
        "null",
        "0",
        '"text"',
        "true",
        "1e400",
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
      )
      .map((text) => ({ label: `raw body ${JSON.stringify(text)}`, text })),
    fc.nat({ max: Math.max(0, bytes.length) }).map((cut) => ({
      label: `truncated at ${cut}`,
      text: bytes.subarray(0, cut),
    })),
    fc
      .tuple(
        fc.nat({ max: Math.max(0, bytes.length - 1) }),
        fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80], [0x80]),
      )
      .map(([at, bad]) => ({
        label: `invalid UTF-8 at ${at}`,
        text: Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]),
      })),
    fc.tuple(hostileValue, fc.boolean()).map(([v, first]) => {
      const inner = validText.startsWith("{") && validText.length > 2 ? validText.slice(1, -1) : "";
      const firstKey = /^"((?:[^"\\]|\\.)*)"/.exec(inner)?.[1] ?? "a";
      const dup = `"${firstKey}":${toJsonText(v)}`;
      const text = first
        ? `{${dup}${inner ? `,${inner}` : ""}}`
        : `{${inner ? `${inner},` : ""}${dup}}`;
      return { label: `duplicate key ${firstKey} (${first ? "first" : "last"})`, text };
    }),
    fc.constantFrom(1.1, 4).map((times) => ({
      label: `body ${times}x the limit`,
      text: `{"pad":"${"a".repeat(Math.ceil(maxBodyBytes * times))}"}`,
    })),
    deepJson.map((raw) => ({ label: `deep body (${raw.text.length} chars)`, text: raw.text })),
  );
}

/** Path segments aimed at name validation and URL decoding, already encoded for the wire. */
export const hostileSegment: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      "..",
      ".",
      "%2e%2e",
      "%2E%2E",
      ".%2e",
      "%2F",
      "a%2Fb",
      "..%2F..%2Fetc%2Fpasswd",
      "%5C..%5C",
      "%00",
      "a%00b",
      "%",
      "%zz",
      "%C0%AE%C0%AE",
      "%C0%80",
      "%ED%A0%80",
      "%FF",
      "%E2%80%AE",
      "%20",
      "a%20b",
      "a+b",
      "a;b",
      "a,b",
      "a:b",
      "a@b",
      "a.b",
      "a..b",
      "~",
      "%7e",
      "*",
      "%2A",
      "%25",
      "%252e%252e",
      "switchyard.audit",
      "switchyard.x",
      "fz-orders.fz-pull.dlq",
      "FZ-ORDERS",
    )
    .map((s) => Buffer.from(s, "latin1")),
  fc.constantFrom(65, 201, 1_024, 1_025, 5_000, 20_000).map((n) => Buffer.from("a".repeat(n))),
  fc
    .constantFrom([0xff], [0xc3], [0xe2, 0x82], [0x00], [0x7f], [0x20])
    .map((b) => Buffer.concat([Buffer.from("fz"), Buffer.from(b)])),
  fc.string({ minLength: 1, maxLength: 30 }).map((s) => Buffer.from(percentEncode(s))),
);

/** Query strings aimed at the query parser and its consumers. */
export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "from=-1",
    "from=1.5",
    "from=9223372036854775808",
    "from=1e3",
    "from=0x10",
    "from=",
    "from=1&from=2",
    "from=1&since=2026-01-01T00:00:00Z",
    "since=yesterday",
    "since=2026-02-30T00:00:00Z",
    "since=%00",
    "limit=0",
    "limit=-5",
    "limit=1001",
    "limit=99999999999999999999",
    "limit=1&limit=2",
    "limit[]=1",
    "limit[a]=1",
    "force=maybe",
    "force=true&force=false",
    "force=TRUE",
    "eventId=&limit=",
    "eventId[]=a",
    "__proto__[x]=1",
    "constructor[prototype][x]=1",
    "%zz=1",
    "a=%zz",
    "=",
    "&&&",
    "?",
    "#frag",
    "x=%ED%A0%80",
  ),
  fc.constantFrom(1_000, 10_000).map((n) => `limit=${"9".repeat(n)}`),
  fc
    .tuple(fc.constantFrom("from", "since", "limit", "force", "eventId", "x"), hostileString)
    .map(([k, v]) => `${k}=${percentEncode(v)}`),
);
