export type { NatsCredentials } from "./credentials.js";
export { NatsEngine, type NatsEngineOptions, openNatsEngine } from "./nats-engine.js";
