// The installed `@opentelemetry/exporter-trace-otlp-http` serialises JSON only; its own
// building blocks (its dependencies) give the `http/protobuf` variant, which is what
// `@opentelemetry/exporter-trace-otlp-proto` is made of.
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from "@opentelemetry/otlp-exporter-base/node-http";
import {
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";

class ProtobufTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {}

/** OTLP/HTTP with protobuf bodies; endpoint, headers, timeout and compression from `OTEL_*`. */
export function protobufTraceExporter(): SpanExporter {
  const options = convertLegacyHttpOptions({}, "TRACES", "v1/traces", {
    "Content-Type": "application/x-protobuf",
  });
  return new ProtobufTraceExporter(
    createOtlpHttpExportDelegate(
      options,
      ProtobufTraceSerializer,
      "otlp_http_span_exporter",
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}
