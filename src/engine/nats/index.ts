export { NatsEngine, type NatsEngineOptions, openNatsEngine } from "./nats-engine.js";
