import { renameSync, rmSync, writeFileSync } from "node:fs";
import { usage } from "./fail.js";

/**
 * Writes `text` beside `path` and renames it over, so the file is either the old one or the
 * whole new one; a failure is a one-line usage error (`hint` says what to check).
 */
export function writeWhole(path: string, text: string, hint: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw usage(`cannot write ${path} (${why})`, hint);
  }
}
