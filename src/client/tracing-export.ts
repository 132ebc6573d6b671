import { context, propagation, type TracerProvider, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { getNumberFromEnv, getStringFromEnv, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TracerProvider as SdkTracerProvider,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import { protobufTraceExporter } from "./tracing-protobuf.js";

/**
 * OTLP/HTTP span export configured by the standard `OTEL_*` variables: the only module that
 * loads the OpenTelemetry SDK. The router calls it at start (its own provider, not
 * registered globally); an SDK user's app calls `startTracing()` from `switchyard/tracing`
 * when it has no OpenTelemetry setup of its own.
 */

export interface TracingOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) names none. */
  readonly serviceName?: string;
  /**
   * Default true: register the provider, an AsyncLocalStorage context manager and the W3C
   * propagator as the process's global OpenTelemetry. The router passes false.
   */
  readonly register?: boolean;
}

export interface Tracing {
  readonly provider: TracerProvider;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is buffered, then stops. Idempotent. */
  shutdown(): Promise<void>;
}

/** True when the `OTEL_*` variables ask for trace export (API.md "Observability"). */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").map((e) => e.trim());
  if (exporters.includes("none") || !exporters.includes("otlp")) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

function ratio(): number {
  const value = getNumberFromEnv("OTEL_TRACES_SAMPLER_ARG");
  return value === undefined || value < 0 || value > 1 ? 1 : value;
}

/** `OTEL_TRACES_SAMPLER` as the specification names them; default `parentbased_always_on`. */
function samplerFromEnv(): Sampler {
  const name = getStringFromEnv("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio());
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `_PROTOCOL`: `http/protobuf` (the default) or `http/json`. */
function exporterFromEnv(): SpanExporter {
  const protocol =
    getStringFromEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ??
    getStringFromEnv("OTEL_EXPORTER_OTLP_PROTOCOL") ??
    "http/protobuf";
  if (protocol === "http/json") return new OTLPTraceExporter();
  if (protocol === "http/protobuf") return protobufTraceExporter();
  throw new Error(
    `OTEL_EXPORTER_OTLP_PROTOCOL ${protocol} is not supported: use http/protobuf or http/json`,
  );
}

function resource(serviceName: string | undefined) {
  const detected = detectResources({ detectors: [envDetector] });
  const named = detected.attributes["service.name"] !== undefined || serviceName === undefined;
  return named ? detected : resourceFromAttributes({ "service.name": serviceName }).merge(detected);
}

/** Starts exporting when `tracingWanted()`; undefined (and nothing loaded or started) otherwise. */
export function startTracing(options: TracingOptions = {}): Tracing | undefined {
  if (!tracingWanted()) return undefined;
  const processor = new BatchSpanProcessor({
    exporter: exporterFromEnv(),
    ...optional("scheduledDelayMillis", getNumberFromEnv("OTEL_BSP_SCHEDULE_DELAY")),
    ...optional("exportTimeoutMillis", getNumberFromEnv("OTEL_BSP_EXPORT_TIMEOUT")),
    ...optional("maxQueueSize", getNumberFromEnv("OTEL_BSP_MAX_QUEUE_SIZE")),
    ...optional("maxExportBatchSize", getNumberFromEnv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")),
  });
  const provider = new SdkTracerProvider({
    resource: resource(options.serviceName),
    sampler: samplerFromEnv(),
    spanProcessors: [processor],
  });
  if (options.register ?? true) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  }
  let stopped: Promise<void> | undefined;
  return {
    provider,
    flush: () => provider.forceFlush(),
    shutdown: () => (stopped ??= provider.shutdown()),
  };
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
