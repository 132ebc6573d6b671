import type { Engine } from "../engine.js";

/** How the conformance suite gets engines; each engine's runner file supplies one. */
export interface EngineHarness {
  /** Shows in describe() titles, e.g. "sqlite (fsync always)". */
  readonly name: string;
  /** A fresh engine over fresh, isolated state (a temp dir, a unique stream prefix). */
  open(): Promise<Engine>;
  /**
   * The same durable state, reopened: after a clean `close()` of `engine`, or after a crash
   * ("kill": the old engine gets no chance to finish anything it has not already answered).
   */
  reopen(engine: Engine, how: "close" | "kill"): Promise<Engine>;
  /**
   * A second node on the same durable state, for engines that run as many nodes (NATS).
   * Tests of what one node sees of another's writes run only with it; an embedded engine
   * has one process by design, so for it they do not apply (rather than being skipped).
   */
  peer?(engine: Engine): Promise<Engine>;
  /** Removes everything `open` created; runs after the whole suite. */
  cleanup?(): Promise<void>;
}
