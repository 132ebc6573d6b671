/**
 * Starts the router and the services as child processes (Node runs the .ts files directly)
 * on 127.0.0.1, and stops or restarts any one of them by its PID. Used by `npm run demo` and
 * by the browser test.
 *
 * Each process binds port 0 and prints its URL in its "<name> ready <url>" line; no port is
 * picked here and handed to a child, which another process could take in between. A restart
 * binds the port the first start got, so URLs stay the same. Services that call others read
 * their URLs from `<dataDir>/service-urls.json` (lib/peers.ts), rewritten as services start.
 *
 * The router runs with auth: an admin key made per Fleet reaches it by env
 * (`SWITCHYARD_ADMIN_KEY`); once it is up, the fleet registers the event schemas, creates the
 * topics enforcing them and one key per service holding only the scopes that service needs
 * (keys.ts), and gives each service its own in `SWITCHYARD_API_KEY`. No key is printed: logs show `redact(key)` at most.
 *
 * Checkout keeps its orders in PostgreSQL (`databaseUrl`, handed to it as `DATABASE_URL`)
 * and writes its events to the outbox table there; the `relay` process is
 * `switchyard outbox relay --table outbox` on the same database, publishing them. Before
 * either first starts, the fleet runs `switchyard outbox init` (idempotent).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateApiKey } from "switchyard";
import { type SetUpOptions, setUpRouter } from "./keys.ts";

export const SERVICES = [
  "checkout",
  "relay",
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
const CLI = join(import.meta.dirname, "../../bin/switchyard.js");
/** The outbox relay prints this once it holds the table's lock; it serves no HTTP. */
const RELAY_READY = /outbox relay: publishing outbox to .* \(lock held\)/;
/** Processes that serve no HTTP, so have no URL. */
const NO_URL: ReadonlySet<ServiceName> = new Set(["relay"]);

/** Start attempts on the remembered port when it is (briefly) still taken. */
const BIND_ATTEMPTS = 5;
const BIND_RETRY_MS = 200;

export interface FleetOptions {
  /** Each process gets `<dataDir>/<name>`. */
  readonly dataDir: string;
  /** Checkout's PostgreSQL database (its orders and the outbox), e.g. postgres://postgres@127.0.0.1:5432/shop. */
  readonly databaseUrl: string;
  /** Fixed ports by name; the others bind a free one at their first start. */
  readonly ports?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where child output goes (default: dropped, except when a start fails). */
  readonly onOutput?: (name: ServiceName, line: string) => void;
  /** What the router is set up with before any service starts (default: every schema). */
  readonly setUp?: SetUpOptions;
}

export class Fleet {
  readonly #options: FleetOptions;
  readonly #ports = new Map<ServiceName, number>();
  readonly #children = new Map<ServiceName, ChildProcess>();
  readonly #keys = new Map<ServiceName, string>();
  #outboxReady = false;
  /** The router's admin key, made for this fleet; the services never see it. */
  readonly adminKey = generateApiKey();

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  async init(): Promise<void> {
    // The services import `switchyard/client` by package name: it resolves to the build.
    if (!existsSync(join(import.meta.dirname, "../../dist/client/index.js"))) {
      throw new Error("dist/ is missing: run `npm run build` first (npm run demo does)");
    }
    for (const [name, port] of Object.entries(this.#options.ports ?? {}))
      if (port !== undefined && port !== 0) this.#ports.set(name as ServiceName, port);
    mkdirSync(this.#options.dataDir, { recursive: true });
    this.#writeUrls();
  }

  /** The URL of a process that has started at least once (fixed ports: known from init). */
  url(name: ServiceName): string {
    const port = this.#ports.get(name);
    if (port === undefined) throw new Error(`${name} has not started yet: its port is not known`);
    return `http://127.0.0.1:${port}`;
  }

  /** The key a service runs with (known once the router has started). */
  keyOf(name: (typeof SERVICES)[number]): string {
    const key = this.#keys.get(name);
    if (key === undefined) throw new Error(`no key for ${name} yet: start the router first`);
    return key;
  }

  running(name: ServiceName): boolean {
    return this.#children.has(name);
  }

  get #urlsFile(): string {
    return join(this.#options.dataDir, "service-urls.json");
  }

  /** What lib/peers.ts reads: every HTTP service, null until it has started. */
  #writeUrls(): void {
    const urls = Object.fromEntries(
      SERVICES.filter((s) => !NO_URL.has(s)).map((s) => [
        s,
        this.#ports.has(s) ? this.url(s) : null,
      ]),
    );
    // Write then rename: a service reading it never sees half a file.
    const temporary = `${this.#urlsFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(urls));
    renameSync(temporary, this.#urlsFile);
  }

  #env(name: ServiceName): Record<string, string> {
    const {
      SWITCHYARD_ADMIN_KEY: _admin,
      SWITCHYARD_API_KEY: _key,
      DATABASE_URL: _database,
      ...inherited
    } = process.env as Record<string, string>;
    const key = name === "router" ? undefined : this.#keys.get(name);
    return {
      ...inherited,
      ...this.#options.env,
      ...(name === "router" ? { SWITCHYARD_ADMIN_KEY: this.adminKey } : {}),
      ...(key === undefined ? {} : { SWITCHYARD_API_KEY: key }),
      PORT: String(this.#ports.get(name) ?? 0),
      DATA_DIR: join(this.#options.dataDir, name),
      // Checkout's database is checkout's (and its relay's): no other service gets its URL.
      ...(name === "checkout" || name === "relay"
        ? { DATABASE_URL: this.#options.databaseUrl }
        : {}),
      ...(this.#ports.has("router") ? { SWITCHYARD_URL: this.url("router") } : {}),
      SERVICE_URLS_FILE: this.#urlsFile,
    };
  }

  /**
   * Starts one process and waits until it prints its "ready" line. After a stop the port it
   * had is normally free at once, but another process may have taken it meanwhile, so a start
   * that fails with EADDRINUSE is retried a few times.
   */
  async start(name: ServiceName, timeoutMs = 20_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#startOnce(name, timeoutMs);
      } catch (error) {
        const busy = this.#ports.has(name) && String(error).includes("EADDRINUSE");
        if (!busy || attempt >= BIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
      }
    }
  }

  async #startOnce(name: ServiceName, timeoutMs: number): Promise<void> {
    if (this.#children.has(name)) return;
    if (name !== "router" && !this.#ports.has("router")) throw new Error("start the router first");
    if ((name === "checkout" || name === "relay") && !this.#outboxReady) {
      await promisify(execFile)(process.execPath, [CLI, "outbox", "init", "--table", "outbox"], {
        env: this.#env(name),
      });
      this.#outboxReady = true;
    }
    const args =
      name === "relay"
        ? [CLI, "outbox", "relay", "--table", "outbox", "--progress", "0"]
        : [join(SERVICES_DIR, `${name}.ts`)];
    const readyLine =
      name === "relay" ? RELAY_READY : new RegExp(`${name} ready http://127\\.0\\.0\\.1:(\\d+)`);
    const child = spawn(process.execPath, args, {
      env: this.#env(name),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#children.set(name, child);
    child.once("exit", () => {
      if (this.#children.get(name) === child) this.#children.delete(name);
    });
    let output = "";
    const ready = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        output += text;
        for (const line of text.split("\n").filter(Boolean)) this.#options.onOutput?.(name, line);
        const ready = readyLine.exec(output);
        if (ready) {
          clearTimeout(timer);
          resolve(Number(ready[1] ?? 0));
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
      const port = await ready;
      if (!NO_URL.has(name)) this.#ports.set(name, port);
      this.#writeUrls();
      if (name === "router" && this.#keys.size === 0) {
        const keys = await setUpRouter(
          this.url("router"),
          this.adminKey,
          SERVICES,
          this.#options.setUp,
        );
        for (const [service, key] of keys) this.#keys.set(service, key);
      }
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
