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
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard.js");
const OUTPUT_KEEP_CHARS = 64 * 1024;
/** NATS routers need secret keys, the same on every node; tests share this one. */
export const TEST_SECRET_KEY = `test:${Buffer.alloc(32, 7).toString("base64")}`;

export interface RouterProcessOptions {
  /** The router's data directory; restarts reuse it. */
  readonly dataDir: string;
  /**
   * Default 0: the child binds a port the kernel picks and reports it (no port is picked here
   * and handed over, which another process could take in between). Restarts reuse that port,
   * so the URL stays the same.
   */
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
  /**
   * Default false: `serve` gets `--no-auth` (the bind is loopback). True: the router runs
   * with auth (`serve` as is, `dev --auth`); give it a key, e.g. SWITCHYARD_ADMIN_KEY in `env`.
   */
  readonly auth?: boolean;
  /** How long one start may take to answer `/readyz`; default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** Starts a router child process and resolves once it answers `GET /readyz` with 200. */
export async function startRouterProcess(options: RouterProcessOptions): Promise<RouterProcess> {
  const router = new RouterProcess(options);
  await router.start();
  return router;
}

/** The URL `serve` ("… listening on <url> (…") or `dev` ("API <url>/v1") prints at start. */
const LISTENING = /listening on (http:\/\/\S+) |\bAPI\s+(http:\/\/\S+)\/v1\b/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes
const ANSI = /\x1b\[[0-9;]*m/g;
/** Start attempts on the remembered port when it is (briefly) still taken. */
const BIND_ATTEMPTS = 5;
const BIND_RETRY_MS = 200;

export class RouterProcess {
  readonly #options: RouterProcessOptions;
  #port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = "";
  #startOutput = "";
  #starts = 0;
  #exitCode: number | null = null;

  constructor(options: RouterProcessOptions) {
    this.#options = options;
    this.#port = options.port ?? 0;
  }

  /** The port the router listens on: known once the first start has reported it. */
  get port(): number {
    if (this.#port === 0) throw new Error("router not started yet: its port is not known");
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The running child's PID, or undefined between a kill and the next start. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times this router has been started. */
  get starts(): number {
    return this.#starts;
  }

  /** The exit code of the last child that exited (null if killed by a signal or running). */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** The last 64 KiB of the child's stdout and stderr, for failure messages. */
  get output(): string {
    return this.#output;
  }

  /**
   * Spawns the child (if none is running) and waits for `/readyz`. A restart binds the port
   * the first start got; right after a kill -9 that port is normally free at once (the dead
   * process's listening socket is closed by the kernel), but another process may have taken
   * it meanwhile, so an EADDRINUSE start is retried a few times before giving up.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#startOnce();
      } catch (error) {
        const busy = this.#port !== 0 && this.#startOutput.includes("EADDRINUSE");
        if (!busy || attempt >= BIND_ATTEMPTS) throw error;
        await new Promise((done) => setTimeout(done, BIND_RETRY_MS));
      }
    }
  }

  async #startOnce(): Promise<void> {
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
    this.#startOutput = "";
    this.#exitCode = null;
    this.#exited = once(child, "exit").then(([code]) => {
      this.#exitCode = typeof code === "number" ? code : null;
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
    const argv = [options.command ?? "serve", "--host", "127.0.0.1", "--port", String(this.#port)];
    argv.push("--data", options.dataDir);
    if (options.fsync) argv.push("--fsync", options.fsync);
    const serve = (options.command ?? "serve") === "serve";
    if (options.auth === true && !serve) argv.push("--auth");
    if (options.auth !== true && serve) argv.push("--no-auth");
    return [...argv, ...(options.args ?? [])];
  }

  #natsKey(): Record<string, string> {
    const args = this.#options.args ?? [];
    const nats = args.some((a, i) => a === "nats" && args[i - 1] === "--engine");
    return nats ? { SWITCHYARD_SECRET_KEY: TEST_SECRET_KEY } : {};
  }

  #keep(chunk: Buffer): void {
    const text = chunk.toString("utf8");
    this.#output = (this.#output + text).slice(-OUTPUT_KEEP_CHARS);
    this.#startOutput = (this.#startOutput + text).slice(-OUTPUT_KEEP_CHARS);
  }

  /** The port this start's child reported, once its start line is out. */
  #reportedPort(): number | undefined {
    const match = LISTENING.exec(this.#startOutput.replace(ANSI, ""));
    const url = match?.[1] ?? match?.[2];
    return url === undefined ? undefined : Number(new URL(url).port);
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
      const reported = this.#reportedPort();
      if (reported !== undefined) {
        if (this.#port !== 0 && reported !== this.#port)
          throw new Error(`router bound port ${reported}, expected ${this.#port}`);
        this.#port = reported;
        if (await this.#ready()) return;
      }
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
