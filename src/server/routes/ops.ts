import { SwitchyardError } from "../../core/errors.js";
import { type RouteContext, sendJson } from "../context.js";
import { openApiDocument } from "../openapi.js";
import { VERSION } from "../version.js";

const READY_TIMEOUT_MS = 2_000;

export function opsRoutes({ app, broker, metrics, maxBodyBytes, auth }: RouteContext): void {
  app.get("/healthz", async (_request, reply) => sendJson(reply, 200, '{"status":"ok"}'));

  app.get("/readyz", async (_request, reply) => {
    try {
      await broker.ready(AbortSignal.timeout(READY_TIMEOUT_MS));
    } catch (error) {
      // The reason is the point of the answer (a read-only store, a lost connection, ...).
      const why = error instanceof Error ? `: ${error.message}` : "";
      throw new SwitchyardError(
        "engine_unavailable",
        `the ${broker.engineName} engine is not ready${why}`,
        { cause: error },
      );
    }
    return sendJson(reply, 200, JSON.stringify({ status: "ready", engine: broker.engineName }));
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.render();
    return reply.code(200).header("content-type", metrics.contentType).send(text);
  });

  app.get("/v1/info", async (request, reply) => {
    // With auth, a caller without a key learns the version only.
    if (auth && request.principal === null)
      return sendJson(reply, 200, JSON.stringify({ name: "switchyard", version: VERSION }));
    const info = {
      name: "switchyard",
      version: VERSION,
      engine: broker.engineName,
      capabilities: broker.capabilities,
      limits: { maxBodyBytes, maxBatchEvents: broker.maxBatchEvents },
    };
    return sendJson(reply, 200, JSON.stringify(info));
  });

  const openapi = JSON.stringify(openApiDocument(VERSION));
  app.get("/openapi.json", async (_request, reply) => sendJson(reply, 200, openapi));
}
