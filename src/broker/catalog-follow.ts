import type { Catalog, CatalogEvent } from "../engine/engine.js";

const WATCH_RETRY_MS = 500;

export interface Following {
  /** Resolves at the first `synced` (the view holds the initial state), or when `done` does. */
  readonly ready: Promise<void>;
  /** Resolves when following stops: `signal` aborted or the engine closed. */
  readonly done: Promise<void>;
}

/**
 * Keeps a node-local view of one Catalog kind: hands every event of `catalog.watch(kind)`
 * to `apply` until `signal` aborts or the engine closes. A watch that breaks (the store
 * unreachable) is opened again after a pause; meanwhile no `synced` marker comes, so a
 * view that checks its age sees it grow.
 */
export function followCatalog(
  catalog: Catalog,
  kind: string,
  signal: AbortSignal,
  apply: (event: CatalogEvent) => void,
): Following {
  let synced!: () => void;
  const first = new Promise<void>((resolve) => {
    synced = resolve;
  });
  const done = (async () => {
    while (!signal.aborted) {
      try {
        for await (const event of catalog.watch(kind, signal)) {
          apply(event);
          if (event.type === "synced") synced();
        }
        return; // the engine closed
      } catch {
        await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
      }
    }
  })();
  return { ready: Promise.race([first, done]), done };
}
