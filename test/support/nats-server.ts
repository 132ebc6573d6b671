/**
 * nats-server processes started by tests themselves: a single JetStream server or a cluster
 * of n on loopback, each on ports it picks itself, with its own temporary store directory, and stopped,
 * killed and restarted by PID (never by name). Modelled on nats.js's `nst` launcher.
 *
 * Imports only `node:` modules, so the benchmark can load it with Node's type stripping.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];
const START_TIMEOUT_MS = 15_000;

/** The nats-server binary: `NATS_SERVER_BIN`, then `nats-server` on PATH, then the Debian paths. */
export function natsServerBinary(): string | null {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const onPath = which.status === 0 ? which.stdout.trim() : "";
  if (onPath) return onPath;
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** The oldest nats-server whose R3 replicas stay identical through a partition (see below). */
export const PARTITION_SAFE_VERSION = "2.10.27";
const FETCHED = resolve(dirname(fileURLToPath(import.meta.url)), "../../.nats/nats-server");

/**
 * The nats-server for the partition test: `NATS_PARTITION_SERVER_BIN`, else the one
 * `scripts/fetch-nats-server.sh` put in `.nats/`. Not the machine's 2.9.10, whose replicas
 * diverge after a cut and lose acknowledged writes (docs/operations.md), whatever the router
 * does; throws, saying how to get one, when there is none.
 */
export function partitionSafeNatsServer(): { readonly path: string; readonly version: string } {
  const path = process.env.NATS_PARTITION_SERVER_BIN || FETCHED;
  const run = existsSync(path) ? spawnSync(path, ["--version"], { encoding: "utf8" }) : null;
  const version = /v(\d+\.\d+\.\d+)/.exec(run?.stdout ?? "")?.[1];
  if (version === undefined)
    throw new Error(
      `no nats-server at ${path}: run scripts/fetch-nats-server.sh (nats-server ${PARTITION_SAFE_VERSION}, from Debian trixie) or set NATS_PARTITION_SERVER_BIN`,
    );
  return { path, version };
}

/** Prints the loud message that explains a skip, and answers whether the binary is there. */
export function natsServerAvailable(): boolean {
  if (natsServerBinary() !== null) return true;
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n!! nats-server not found: NATS engine tests are SKIPPED on this machine.\n` +
      `!! Install it (apt-get install -y nats-server) or set NATS_SERVER_BIN. CI installs it.\n${line}\n`,
  );
  return false;
}

interface NodeOptions {
  readonly name: string;
  readonly dir: string;
  /** The cluster this node joins (its own ports are picked by the server at first start). */
  readonly cluster?: string;
  /** JetStream's `max_file_store` (e.g. "2MB"): a store that fills up in a test. */
  readonly maxFileStore?: string;
  /** More configuration lines (e.g. `authorization` or `tls` blocks). */
  readonly config?: string;
}

/** The ports a server reported in its ports file. */
interface Ports {
  readonly client: number;
  readonly cluster: number | undefined;
}

/** Start attempts on the remembered ports when one is (briefly) still taken. */
const BIND_ATTEMPTS = 5;
const BIND_RETRY_MS = 200;
/**
 * A JetStream cluster node refuses to start without a configured route, and the first node's
 * peers have no ports yet. It starts with this one: port 1 is privileged and unused here, so
 * the route is refused at once and retried quietly, until the real routes replace it.
 */
const PLACEHOLDER_ROUTE = 1;

/**
 * One nats-server process. The first start binds ports the server picks itself (`-1`) and
 * reports in its ports file, so no port is chosen here and handed over for another process to
 * take in between; `restart()` brings it back on the same ports and store.
 */
export class NatsServer {
  readonly #options: NodeOptions;
  #port = -1;
  #clusterPort = -1;
  #routes: readonly number[] = [];
  /** The listen ports the running process was started with (a reload must not change them). */
  #listening = { client: -1, cluster: -1 };
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = "";
  #startOutput = "";

  constructor(options: NodeOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  /** The cluster (route) port, once the first start has reported it. */
  get clusterPort(): number {
    return this.#clusterPort;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.#port}`;
  }

  get pid(): number | undefined {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null
      ? child.pid
      : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** The server's recent output, for failure messages. */
  get output(): string {
    return this.#output;
  }

  /**
   * Starts the server. After a kill the remembered ports are normally free at once (the
   * kernel closed the dead server's listeners), but another process may have taken one in
   * between, so a start that fails with "address already in use" is retried a few times.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#startOnce();
      } catch (error) {
        const busy = this.#startOutput.includes("address already in use");
        if (!busy || attempt >= BIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
      }
    }
  }

  async #startOnce(): Promise<void> {
    if (this.running) return;
    const binary = natsServerBinary();
    if (binary === null) throw new Error("nats-server binary not found");
    const portsDir = mkdtempSync(join(this.#options.dir, "ports-"));
    this.#listening = { client: this.#port, cluster: this.#clusterPort };
    writeFileSync(this.#configPath(), this.#config());
    const child = spawn(binary, ["-c", this.#configPath(), "--ports_file_dir", portsDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    this.#startOutput = "";
    this.#exited = once(child, "exit").then(() => undefined);
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-32_000);
      this.#startOutput = (this.#startOutput + chunk.toString()).slice(-32_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    try {
      const ports = await this.#waitForPorts(child, portsDir);
      this.#port = ports.client;
      if (ports.cluster !== undefined) this.#clusterPort = ports.cluster;
    } finally {
      rmSync(portsDir, { recursive: true, force: true });
    }
  }

  /**
   * Sets the cluster ports this node routes to (used from the next start on); a running
   * server reloads its configuration (SIGHUP) and this resolves once it has.
   */
  async setRoutes(ports: readonly number[]): Promise<void> {
    this.#routes = [...ports];
    const child = this.#child;
    if (!this.running || child === undefined) return;
    const reloads = (): number => this.#output.split("Reloaded server configuration").length;
    const before = reloads();
    writeFileSync(this.#configPath(), this.#config());
    child.kill("SIGHUP");
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (reloads() === before) {
      if (Date.now() > deadline) throw new Error(`nats-server did not reload:\n${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGTERM (lame-duck-free shutdown) and wait for the process to exit. */
  async stop(): Promise<void> {
    await this.#signal("SIGTERM");
  }

  /** SIGKILL: no shutdown at all, like a crashed machine. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.#exited;
  }

  #configPath(): string {
    return join(this.#options.dir, "nats.conf");
  }

  #config(): string {
    const { name, dir, cluster, maxFileStore, config } = this.#options;
    const limit = maxFileStore === undefined ? "" : `, max_file_store: ${maxFileStore}`;
    const lines = [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${this.#listening.client}"`,
      "max_payload: 8MB",
      `jetstream { store_dir: ${JSON.stringify(join(dir, "store"))}${limit} }`,
    ];
    if (cluster !== undefined) {
      const ports = this.#routes.length > 0 ? this.#routes : [PLACEHOLDER_ROUTE];
      const routes = ports.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
      lines.push(
        `cluster { name: ${cluster}, listen: "127.0.0.1:${this.#listening.cluster}", routes: [${routes}] }`,
      );
    }
    if (config !== undefined) lines.push(config);
    return `${lines.join("\n")}\n`;
  }

  async #waitForPorts(child: ChildProcess, portsDir: string): Promise<Ports> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`nats-server exited at start:\n${this.#output}`);
      const file = readdirSync(portsDir).find((f) => f.endsWith(".ports"));
      const ports = file === undefined ? undefined : readPorts(join(portsDir, file));
      if (ports !== undefined && (this.#options.cluster === undefined || ports.cluster))
        return ports;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    throw new Error(`nats-server did not write its ports file:\n${this.#output}`);
  }
}

/** The ports in a ports file, or undefined while the server is still writing it. */
function readPorts(path: string): Ports | undefined {
  try {
    const file = JSON.parse(readFileSync(path, "utf8")) as { nats?: string[]; cluster?: string[] };
    const client = file.nats?.[0];
    const cluster = file.cluster?.[0];
    if (client === undefined) return undefined;
    return {
      client: Number(new URL(client).port),
      cluster: cluster === undefined ? undefined : Number(new URL(cluster).port),
    };
  } catch {
    return undefined;
  }
}

/** A set of servers sharing one temporary directory; `close()` stops all and removes it. */
export class NatsServers {
  readonly servers: readonly NatsServer[];
  readonly dir: string;

  constructor(servers: readonly NatsServer[], dir: string) {
    this.servers = servers;
    this.dir = dir;
  }

  /** Client URLs of every server, comma-separated (the form `--nats-url` takes). */
  get url(): string {
    return this.servers.map((s) => s.url).join(",");
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function newDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One JetStream server on a free loopback port (chosen by the server itself). */
export async function startNatsServer(
  options: { readonly maxFileStore?: string; readonly config?: string } = {},
): Promise<NatsServers> {
  const dir = newDir("sy-nats-");
  const server = new NatsServer({ name: "n1", dir, ...options });
  try {
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return new NatsServers([server], dir);
}

/**
 * A JetStream cluster of `n` servers with routes on loopback, every port picked by its server.
 * The first node starts alone and reports its cluster port; the others start routed to it;
 * then every node is given routes to all the others, so any one can be restarted (on its own
 * ports) and find the rest.
 */
export async function startNatsCluster(n = 3): Promise<NatsServers> {
  const dir = newDir("sy-nats-cluster-");
  const servers = Array.from({ length: n }, (_, i) => {
    const nodeDir = join(dir, `n${i + 1}`);
    mkdirSync(nodeDir, { recursive: true });
    return new NatsServer({ name: `n${i + 1}`, dir: nodeDir, cluster: "sy" });
  });
  const [first, ...rest] = servers;
  try {
    if (first === undefined) throw new Error("a cluster needs at least one server");
    await first.start();
    await Promise.all(
      rest.map(async (server) => {
        await server.setRoutes([first.clusterPort]);
        await server.start();
      }),
    );
    await Promise.all(
      servers.map((server) =>
        server.setRoutes(servers.filter((s) => s !== server).map((s) => s.clusterPort)),
      ),
    );
  } catch (error) {
    await Promise.all(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return new NatsServers(servers, dir);
}
