/**
 * A service's own state as one JSON file, rewritten atomically (temp file + rename) on every
 * change, so a crash leaves either the old state or the new one, never half of each.
 * Small on purpose: a real service would use its database, with the same rule — record
 * "I handled event X" in the same write as the effect of handling it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class JsonStore<T extends object> {
  readonly #file: string;
  #state: T;

  constructor(file: string, initial: T) {
    this.#file = file;
    mkdirSync(dirname(file), { recursive: true });
    this.#state = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : initial;
  }

  get state(): Readonly<T> {
    return this.#state;
  }

  /** Applies `change` to a copy, writes it durably, then makes it the current state. */
  update(change: (draft: T) => void): void {
    const next = structuredClone(this.#state);
    change(next);
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(next, null, 2), { flush: true });
    renameSync(tmp, this.#file);
    this.#state = next;
  }
}

/** The identity of a CloudEvent: `source` + `id` (what the router dedupes on too). */
export function eventKey(event: { readonly source: string; readonly id: string }): string {
  return `${event.source} ${event.id}`;
}
