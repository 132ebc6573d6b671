/**
 * A Switchyard router running as a child process of the real CLI (`bin/switchyard.js`), so
 * tests and benchmarks exercise what users run: the built `dist/`, its own event loop, its
 * own data directory, and a real SIGKILL.
 *
 * Imports only `node:` modules: the benchmark runs this file directly with Node's type
 * stripping, where a relative `.js` import of a `.ts` sibling would not resolve.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const OUTPUT_KEEP_CHARS = 64 * 1024;
/** NATS routers need secret keys, the same on every node; tests share this one. */
export const TEST_SECRET_KEY = `test:${Buffer.alloc(32, 7).toString("base64")}`;

export interface RouterProcessOptions {
  /** The router's data directory; restarts reuse it. */
  readonly dataDir: string;
  /** Defaults to a free port picked once, so the URL stays the same across restarts. */
  readonly port?: number;
  readonly fsync?: "always" | "interval";
  /** `serve` (default) or `dev` (auto-creates topics). */
  readonly command?: "serve" | "dev";
  /** More CLI arguments after the standard ones. */
  readonly args?: readonly string[];
  /** Arguments for `node` itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** A command that execs the rest (e.g. `setpriv ...`), so the PID stays the router's. */
  readonly wrapper?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** How long one start may take to answer `/readyz`; default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** Asks the kernel for a free TCP port on 127.0.0.1 (released before it is returned). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Starts a router child process and resolves once it answers `GET /readyz` with 200. */
export async function startRouterProcess(options: RouterProcessOptions): Promise<RouterProcess> {
  const router = new RouterProcess(options, options.port ?? (await freePort()));
  await router.start();
  return router;
}

export class RouterProcess {
  readonly port: number;
  readonly url: string;
  readonly #options: RouterProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = "";
  #starts = 0;

  constructor(options: RouterProcessOptions, port: number) {
    this.#options = options;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** The running child's PID, or undefined between a kill and the next start. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times this router has been started. */
  get starts(): number {
    return this.#starts;
  }

  /** The last 64 KiB of the child's stdout and stderr, for failure messages. */
  get output(): string {
    return this.#output;
  }

  /** Spawns the child (if none is running) and waits for `/readyz`. */
  async start(): Promise<void> {
    if (this.#child) throw new Error(`router already running (pid ${this.#child.pid})`);
    const [command = process.execPath, ...prefix] = [
      ...(this.#options.wrapper ?? []),
      process.execPath,
    ];
    const child = spawn(
      command,
      [...prefix, ...(this.#options.nodeArgs ?? []), BIN, ...this.#argv()],
      {
        env: { ...process.env, ...this.#natsKey(), ...this.#options.env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#child = child;
    this.#starts++;
    this.#exited = once(child, "exit").then(() => {
      if (this.#child === child) this.#child = undefined;
    });
    child.stdout?.on("data", (chunk: Buffer) => this.#keep(chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.#keep(chunk));
    await this.#waitReady(child);
  }

  /** SIGKILL by PID (no chance to flush or close anything), then waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    process.kill(child.pid, "SIGKILL");
    await this.#exited;
  }

  /** Kills with SIGKILL and starts again on the same port and data directory. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Graceful stop: SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  #argv(): string[] {
    const options = this.#options;
    const argv = [options.command ?? "serve", "--host", "127.0.0.1", "--port", String(this.port)];
    argv.push("--data", options.dataDir);
    if (options.fsync) argv.push("--fsync", options.fsync);
    return [...argv, ...(options.args ?? [])];
  }

  #natsKey(): Record<string, string> {
    const args = this.#options.args ?? [];
    const nats = args.some((a, i) => a === "nats" && args[i - 1] === "--engine");
    return nats ? { SWITCHYARD_SECRET_KEY: TEST_SECRET_KEY } : {};
  }

  #keep(chunk: Buffer): void {
    this.#output = (this.#output + chunk.toString("utf8")).slice(-OUTPUT_KEEP_CHARS);
  }

  async #waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.#options.readyTimeoutMs ?? 20_000);
    let gone = false;
    void this.#exited.then(() => {
      gone = true;
    });
    while (Date.now() < deadline) {
      if (gone)
        throw new Error(`router exited (code ${child.exitCode}) before ready:\n${this.#output}`);
      if (await this.#ready()) return;
      await new Promise((done) => setTimeout(done, 25));
    }
    child.kill("SIGKILL");
    throw new Error(
      `router not ready after ${this.#options.readyTimeoutMs ?? 20_000} ms:\n${this.#output}`,
    );
  }

  async #ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }
}
