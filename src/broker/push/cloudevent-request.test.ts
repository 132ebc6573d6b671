import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../../core/event.js";
import type { LogRecord } from "../../engine/engine.js";
import {
  batchRequest,
  binaryRequest,
  encodeHeaderValue,
  structuredRequest,
} from "./cloudevent-request.js";

function record(
  event: Record<string, unknown>,
  offset = 7,
): { record: LogRecord; event: CloudEvent } {
  const body = JSON.stringify({
    specversion: "1.0",
    id: "e1",
    source: "/shop",
    type: "t",
    ...event,
  });
  return {
    record: {
      topic: "orders",
      offset,
      appendedAt: Date.parse("2026-01-02T03:04:05.678Z"),
      key: null,
      body,
    },
    event: JSON.parse(body) as CloudEvent,
  };
}

describe("binary mode", () => {
  it("puts attributes and router metadata in ce- headers and JSON data in the body", () => {
    const { record: r, event } = record({
      data: { total: 5 },
      partitionkey: "c-1",
      time: "2026-01-01T00:00:00Z",
    });
    const request = binaryRequest(r, event);
    expect(request.headers).toEqual({
      "ce-specversion": "1.0",
      "ce-id": "e1",
      "ce-source": "/shop",
      "ce-type": "t",
      "ce-time": "2026-01-01T00:00:00Z",
      "ce-partitionkey": "c-1",
      "ce-offset": "7",
      "ce-topic": "orders",
      "ce-appendedat": "2026-01-02T03:04:05.678Z",
      "content-type": "application/json",
    });
    expect(request.body).toBe('{"total":5}');
  });

  it("sends text data as is, data_base64 as bytes, and no body without data", () => {
    const text = record({ datacontenttype: "text/plain", data: "héllo" });
    expect(binaryRequest(text.record, text.event)).toMatchObject({
      body: "héllo",
      headers: { "content-type": "text/plain" },
    });
    const bin = record({ datacontenttype: "image/png", data_base64: "AAEC" });
    const request = binaryRequest(bin.record, bin.event);
    expect(Buffer.from(request.body)).toEqual(Buffer.from([0, 1, 2]));
    expect(request.headers["content-type"]).toBe("image/png");
    const none = record({});
    expect(binaryRequest(none.record, none.event).body).toBe("");
    expect(binaryRequest(none.record, none.event).headers["content-type"]).toBeUndefined();
  });

  it("percent-encodes values so no attribute can inject a header", () => {
    const evil = record({ subject: "a\r\nx-evil: 1", ext: 'q"%é ' });
    const { headers } = binaryRequest(evil.record, evil.event);
    expect(headers["ce-subject"]).toBe("a%0D%0Ax-evil:%201");
    expect(headers["ce-ext"]).toBe("q%22%25%C3%A9%20");
    expect(decodeURIComponent(headers["ce-ext"] ?? "")).toBe('q"%é ');
    expect(encodeHeaderValue("\0")).toBe("%00");
  });
});

describe("structured and batch modes", () => {
  it("send the StoredEvent JSON", () => {
    const { record: r } = record({ data: { a: 1 } });
    const s = structuredRequest(r);
    expect(s.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(String(s.body))).toMatchObject({
      id: "e1",
      offset: 7,
      topic: "orders",
      data: { a: 1 },
    });
    const b = batchRequest([r, record({ id: "e2" }, 8).record]);
    expect(b.headers["content-type"]).toMatch(/^application\/cloudevents-batch\+json/);
    expect((JSON.parse(String(b.body)) as { id: string }[]).map((e) => e.id)).toEqual(["e1", "e2"]);
  });
});
