/**
 * WAL checkpoints on a helper thread. A checkpoint copies the WAL's pages into the database
 * file and fsyncs it; done by the main connection (SQLite's auto-checkpoint) that work lands
 * inside some unlucky commit and stalls the event loop for tens of milliseconds. Here a worker
 * thread with its own connection runs a PASSIVE checkpoint every CHECKPOINT_MS: PASSIVE never
 * blocks the writer, and the I/O happens off the main thread. The main connection keeps a
 * high auto-checkpoint threshold only as a backstop.
 *
 * The worker's code is plain JavaScript passed as a string (no module to resolve), so it runs
 * the same from `dist/`, from the TypeScript sources, and under the test runner.
 */
import { Worker } from "node:worker_threads";

/** Also bounds what an OS crash can lose with `fsync: "interval"` (the WAL is fsync'd here). */
export const CHECKPOINT_MS = 250;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(workerData.path, { timeout: 5000 });
db.exec("PRAGMA synchronous = " + workerData.synchronous);
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try { checkpoint.get(); } catch {}
}, workerData.everyMs);
parentPort.on("message", (message) => {
  if (message !== "close") return;
  clearInterval(timer);
  try { checkpoint.get(); } catch {}
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(path: string, fsync: "always" | "interval") {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path,
        synchronous: fsync === "always" ? "FULL" : "NORMAL",
        everyMs: CHECKPOINT_MS,
      },
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once("exit", () => resolve());
    });
    // The thread never keeps the process alive; a crash simply ends it with the process.
    this.#worker.unref();
  }

  /** Runs a last checkpoint and stops the thread. */
  close(): Promise<void> {
    this.#worker.ref(); // keep the process up until the last checkpoint is done
    this.#worker.postMessage("close");
    return this.#exited;
  }
}
