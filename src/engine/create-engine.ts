/** Builds the configured engine; the one place that knows every engine implementation. */
import type { Engine } from "./engine.js";
import { openSqliteEngine } from "./sqlite/index.js";

export type EngineOptions = {
  readonly kind: "sqlite";
  readonly dataDir: string;
  readonly fsync?: "always" | "interval";
};

export function createEngine(options: EngineOptions): Promise<Engine> {
  return openSqliteEngine({
    dir: options.dataDir,
    ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
  });
}
