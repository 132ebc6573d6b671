/**
 * nats-server processes started by tests themselves: a single JetStream server or a cluster
 * of n on loopback, each on free ports with its own temporary store directory, and stopped,
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
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

interface NodeOptions {
  readonly name: string;
  readonly dir: string;
  readonly port: number;
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: number[] };
  /** JetStream's `max_file_store` (e.g. "2MB"): a store that fills up in a test. */
  readonly maxFileStore?: string;
}

/** One nats-server process; `restart()` brings it back on the same ports and store. */
export class NatsServer {
  readonly #options: NodeOptions;
  #port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = "";

  constructor(options: NodeOptions) {
    this.#options = options;
    this.#port = options.port;
  }

  get port(): number {
    return this.#port;
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

  async start(): Promise<void> {
    if (this.running) return;
    const binary = natsServerBinary();
    if (binary === null) throw new Error("nats-server binary not found");
    const portsDir = mkdtempSync(join(this.#options.dir, "ports-"));
    const config = join(this.#options.dir, "nats.conf");
    writeFileSync(config, this.#config());
    const child = spawn(binary, ["-c", config, "--ports_file_dir", portsDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    this.#exited = once(child, "exit").then(() => undefined);
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-32_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.#port = await this.#waitForPorts(child, portsDir);
    rmSync(portsDir, { recursive: true, force: true });
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

  #config(): string {
    const { name, dir, cluster, maxFileStore } = this.#options;
    const limit = maxFileStore === undefined ? "" : `, max_file_store: ${maxFileStore}`;
    const lines = [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${this.#port}"`,
      "max_payload: 8MB",
      `jetstream { store_dir: ${JSON.stringify(join(dir, "store"))}${limit} }`,
    ];
    if (cluster !== undefined) {
      const routes = cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
      lines.push(
        `cluster { name: ${cluster.name}, listen: "127.0.0.1:${cluster.port}", routes: [${routes}] }`,
      );
    }
    return `${lines.join("\n")}\n`;
  }

  async #waitForPorts(child: ChildProcess, portsDir: string): Promise<number> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`nats-server exited at start:\n${this.#output}`);
      const file = readdirSync(portsDir).find((f) => f.endsWith(".ports"));
      const url = file === undefined ? undefined : clientUrl(join(portsDir, file));
      if (url !== undefined) return Number(new URL(url).port);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    throw new Error(`nats-server did not write its ports file:\n${this.#output}`);
  }
}

/** The client URL in a ports file, or undefined while the server is still writing it. */
function clientUrl(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { nats?: string[] }).nats?.[0];
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
  options: { readonly maxFileStore?: string } = {},
): Promise<NatsServers> {
  const dir = newDir("sy-nats-");
  const server = new NatsServer({ name: "n1", dir, port: -1, ...options });
  try {
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return new NatsServers([server], dir);
}

/** A JetStream cluster of `n` servers with routes on loopback. */
export async function startNatsCluster(n = 3): Promise<NatsServers> {
  const dir = newDir("sy-nats-cluster-");
  const clientPorts: number[] = [];
  const clusterPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    clientPorts.push(await freePort());
    clusterPorts.push(await freePort());
  }
  const servers = clientPorts.map((port, i) => {
    const nodeDir = join(dir, `n${i + 1}`);
    mkdirSync(nodeDir, { recursive: true });
    const routes = clusterPorts.filter((_, j) => j !== i);
    const clusterPort = clusterPorts[i] ?? 0;
    return new NatsServer({
      name: `n${i + 1}`,
      dir: nodeDir,
      port,
      cluster: { name: "sy", port: clusterPort, routes },
    });
  });
  try {
    await Promise.all(servers.map((s) => s.start()));
  } catch (error) {
    await Promise.all(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return new NatsServers(servers, dir);
}
