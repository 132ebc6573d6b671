/**
 * Starts the router and the services as child processes (Node runs the .ts files directly)
 * on free 127.0.0.1 ports, and stops or restarts any one of them by its PID. Used by
 * `npm run demo` and by the browser test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const SERVICES = [
  "checkout",
  "email",
  "inventory",
  "fulfillment",
  "history",
  "slack",
  "profiles",
  "notifications",
  "sms",
  "usage",
] as const;
export type ServiceName = "router" | (typeof SERVICES)[number];

const SERVICES_DIR = join(import.meta.dirname, "services");

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface FleetOptions {
  /** Each process gets `<dataDir>/<name>`. */
  readonly dataDir: string;
  /** Fixed ports by name; the rest are picked free. */
  readonly ports?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where child output goes (default: dropped, except when a start fails). */
  readonly onOutput?: (name: ServiceName, line: string) => void;
}

export class Fleet {
  readonly #options: FleetOptions;
  readonly #ports = new Map<ServiceName, number>();
  readonly #children = new Map<ServiceName, ChildProcess>();

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  /** Picks every port up front, so URLs are known before services start and stay the same. */
  async init(): Promise<void> {
    // The services import `switchyard/client` by package name: it resolves to the build.
    if (!existsSync(join(import.meta.dirname, "../../dist/client/index.js"))) {
      throw new Error("dist/ is missing: run `npm run build` first (npm run demo does)");
    }
    for (const name of ["router", ...SERVICES] as const) {
      this.#ports.set(name, this.#options.ports?.[name] ?? (await freePort()));
    }
  }

  url(name: ServiceName): string {
    return `http://127.0.0.1:${this.#ports.get(name) ?? 0}`;
  }

  running(name: ServiceName): boolean {
    return this.#children.has(name);
  }

  #env(name: ServiceName): Record<string, string> {
    const urls = Object.fromEntries(
      SERVICES.filter((s) => s !== "checkout").map((s) => [s, this.url(s)]),
    );
    return {
      ...(process.env as Record<string, string>),
      ...this.#options.env,
      PORT: String(this.#ports.get(name)),
      DATA_DIR: join(this.#options.dataDir, name),
      SWITCHYARD_URL: this.url("router"),
      SERVICE_URLS: JSON.stringify(urls),
      NOTIFY_URL: this.url("notifications"),
    };
  }

  /** Starts one process and waits until it prints its "ready" line. */
  async start(name: ServiceName, timeoutMs = 20_000): Promise<void> {
    if (this.#children.has(name)) return;
    const script = join(SERVICES_DIR, `${name}.ts`);
    const child = spawn(process.execPath, [script], {
      env: this.#env(name),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#children.set(name, child);
    child.once("exit", () => {
      if (this.#children.get(name) === child) this.#children.delete(name);
    });
    let output = "";
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        output += text;
        for (const line of text.split("\n").filter(Boolean)) this.#options.onOutput?.(name, line);
        if (output.includes(`${name} ready `)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}:\n${output}`));
      });
    });
    try {
      await ready;
    } catch (error) {
      await this.stop(name);
      throw error;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(name: ServiceName, graceMs = 3_000): Promise<void> {
    const child = this.#children.get(name);
    if (!child || child.pid === undefined) return;
    this.#children.delete(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    process.kill(child.pid, "SIGTERM");
    const timer = setTimeout(
      () => child.pid !== undefined && process.kill(child.pid, "SIGKILL"),
      graceMs,
    );
    await exited;
    clearTimeout(timer);
  }

  /** Stops the services first, the router last. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#children.keys()].filter((n) => n !== "router").map((n) => this.stop(n)),
    );
    await this.stop("router");
  }
}
