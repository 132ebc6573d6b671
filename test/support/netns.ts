/**
 * Network namespaces of a test's own, for network partitions: each node gets a namespace
 * with two links, a "host" veth to the root namespace (so the test and routers in the root
 * namespace reach it, and it stays up) and a "cluster" veth to a bridge in one more namespace
 * of the test's own (the cut is a link down on this one). Every address is in 10.213.0.0/16,
 * which exists only on these veths; the cluster network (10.213.0.0/24) is not even routed
 * in the root namespace.
 *
 * Names carry the test's PID (`syp<pid>x<n>-…`), so `destroy()` removes what one net created
 * and `sweepStale()` removes what a killed test left behind, by name, never anything else.
 * Needs root (`requireRoot`); the `ip` command of iproute2.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { natsServerBinary } from "./nats-server.js";

const IP_CANDIDATES = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];
const NAME = /^syp(\d+)x\d+[-hc]/;
const CLUSTER_LINK = "clus0";
const HOST_LINK = "host0";

/** Throws a clear error (never skips) when the test cannot create namespaces. */
export function requireRoot(what: string): void {
  const uid = process.getuid?.();
  if (uid !== 0)
    throw new Error(
      `${what} needs root: it creates network namespaces and veth pairs (ip netns, ip link), ` +
        `which only root may do. This process runs as uid ${uid}. Run it as root (CI does).`,
    );
  if (ipBinary() === undefined)
    throw new Error(`${what} needs the ip command of iproute2 (${IP_CANDIDATES.join(", ")})`);
}

function ipBinary(): string | undefined {
  return IP_CANDIDATES.find((path) => existsSync(path));
}

function ip(...args: string[]): string {
  try {
    return execFileSync(ipBinary() ?? "ip", args, { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`ip ${args.join(" ")} failed: ${stderr.trim() || String(error)}`);
  }
}

/** Ignores failures: cleanup goes on past what is already gone. */
function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already removed, or never created
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills (SIGKILL, by PID) whatever still runs inside a namespace, then deletes it. */
function removeNamespace(ns: string): void {
  let pids: string[] = [];
  try {
    pids = ip("netns", "pids", ns).split(/\s+/).filter(Boolean);
  } catch {
    return; // no such namespace
  }
  for (const pid of pids)
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // exited meanwhile
    }
  tryIp("netns", "del", ns);
}

/** Removes the namespaces and root-side veths of earlier test processes that are gone. */
export function sweepStale(): void {
  for (const line of ip("netns", "list").split("\n")) {
    const ns = line.split(" ")[0] ?? "";
    const owner = NAME.exec(ns)?.[1];
    if (owner !== undefined && !alive(Number(owner))) removeNamespace(ns);
  }
  for (const line of ip("-o", "link", "show").split("\n")) {
    const link = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "";
    const owner = NAME.exec(link)?.[1];
    if (owner !== undefined && !alive(Number(owner))) tryIp("link", "del", link);
  }
}

let nets = 0;

/** One octet of 10.213.x.0/24 that no root-namespace address uses yet (0 is the cluster's). */
function freeHostSubnet(): number {
  const used = ip("-4", "-o", "addr", "show");
  for (let octet = 1; octet < 255; octet++) if (!used.includes(`10.213.${octet}.`)) return octet;
  throw new Error("no free 10.213.x.0/24 subnet in the root namespace");
}

/** `nodes` namespaces on one bridge, each also linked to the root namespace. */
export class PartitionNet {
  readonly tag: string;
  readonly nodes: number;
  readonly #subnet: number;
  readonly #children = new Set<ChildProcess>();
  readonly #cut = new Set<number>();

  private constructor(nodes: number) {
    this.tag = `syp${process.pid}x${nets++}`;
    this.nodes = nodes;
    this.#subnet = freeHostSubnet();
  }

  /** Creates the namespaces and links; on any failure removes what it made and rethrows. */
  static create(nodes: number): PartitionNet {
    sweepStale();
    const net = new PartitionNet(nodes);
    try {
      net.#build();
    } catch (error) {
      net.destroy();
      throw error;
    }
    return net;
  }

  /** The namespace of node `i` (0-based). */
  namespace(i: number): string {
    return `${this.tag}-n${i + 1}`;
  }

  /** Node `i`'s address on its host link: reachable from the root namespace, never cut. */
  hostAddress(i: number): string {
    return `10.213.${this.#subnet}.${4 * i + 2}`;
  }

  /** Node `i`'s address on the bridge between the nodes: the one a cut takes away. */
  clusterAddress(i: number): string {
    return `10.213.0.${i + 1}`;
  }

  /** Which nodes are cut off right now. */
  get cut(): readonly number[] {
    return [...this.#cut];
  }

  /** Cuts node `i` off the other nodes (its cluster link goes down); its host link stays. */
  cutOff(i: number): void {
    ip("-n", this.namespace(i), "link", "set", CLUSTER_LINK, "down");
    this.#cut.add(i);
  }

  heal(i: number): void {
    ip("-n", this.namespace(i), "link", "set", CLUSTER_LINK, "up");
    this.#cut.delete(i);
  }

  /** Spawns `command` inside node `i`'s namespace (`ip netns exec` execs it: same PID). */
  spawn(i: number, command: string, args: readonly string[]): ChildProcess {
    const child = spawn(
      ipBinary() ?? "ip",
      ["netns", "exec", this.namespace(i), command, ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#children.add(child);
    void once(child, "exit").then(() => this.#children.delete(child));
    return child;
  }

  /** Kills every process it spawned (by PID), deletes its namespaces and root-side veths. */
  destroy(): void {
    for (const child of this.#children) if (child.pid !== undefined) tryKill(child.pid);
    for (let i = 0; i < this.nodes; i++) removeNamespace(this.namespace(i));
    removeNamespace(this.#bridgeNamespace);
    // Deleting a namespace deletes the veths in it and so their peers; this is for a build
    // that failed before a peer was moved.
    for (let i = 0; i < this.nodes; i++) {
      tryIp("link", "del", this.#hostLink(i));
      tryIp("link", "del", this.#clusterPeer(i));
    }
  }

  /** Names of everything this net created that still exists (empty after `destroy()`). */
  leftovers(): string[] {
    const namespaces = ip("netns", "list")
      .split("\n")
      .map((line) => line.split(" ")[0] ?? "");
    const links = ip("-o", "link", "show")
      .split("\n")
      .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "");
    return [...namespaces, ...links].filter((name) => name.startsWith(this.tag));
  }

  get #bridgeNamespace(): string {
    return `${this.tag}-br`;
  }

  #hostLink(i: number): string {
    return `${this.tag}h${i + 1}`;
  }

  #clusterPeer(i: number): string {
    return `${this.tag}c${i + 1}`;
  }

  #build(): void {
    const bridge = this.#bridgeNamespace;
    ip("netns", "add", bridge);
    ip("-n", bridge, "link", "add", "br0", "type", "bridge");
    ip("-n", bridge, "link", "set", "br0", "up");
    for (let i = 0; i < this.nodes; i++) {
      const ns = this.namespace(i);
      ip("netns", "add", ns);
      ip("-n", ns, "link", "set", "lo", "up");
      // Host link: one end stays in the root namespace.
      const hostLink = this.#hostLink(i);
      ip("link", "add", hostLink, "type", "veth", "peer", "name", `${hostLink}p`);
      ip("link", "set", `${hostLink}p`, "netns", ns);
      ip("-n", ns, "link", "set", `${hostLink}p`, "name", HOST_LINK);
      ip("addr", "add", `10.213.${this.#subnet}.${4 * i + 1}/30`, "dev", hostLink);
      ip("-n", ns, "addr", "add", `${this.hostAddress(i)}/30`, "dev", HOST_LINK);
      ip("link", "set", hostLink, "up");
      ip("-n", ns, "link", "set", HOST_LINK, "up");
      // Cluster link: from the node's namespace to a port of the bridge.
      const peer = this.#clusterPeer(i);
      ip("link", "add", peer, "type", "veth", "peer", "name", `${peer}n`);
      ip("link", "set", peer, "netns", bridge);
      ip("-n", bridge, "link", "set", peer, "master", "br0", "up");
      ip("link", "set", `${peer}n`, "netns", ns);
      ip("-n", ns, "link", "set", `${peer}n`, "name", CLUSTER_LINK);
      ip("-n", ns, "addr", "add", `${this.clusterAddress(i)}/24`, "dev", CLUSTER_LINK);
      ip("-n", ns, "link", "set", CLUSTER_LINK, "up");
    }
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

const CLIENT_PORT = 4222;
const CLUSTER_PORT = 6222;
const MONITOR_PORT = 8222;

/** One nats-server in node `i`'s namespace: clients and monitoring on its host address. */
export class NetnsNatsNode {
  readonly #net: PartitionNet;
  readonly #index: number;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  #output = "";

  readonly #binary: string | undefined;

  /** `binary`: the nats-server to run; the machine's (`natsServerBinary()`) when absent. */
  constructor(net: PartitionNet, index: number, dir: string, binary?: string) {
    this.#net = net;
    this.#index = index;
    this.#dir = dir;
    this.#binary = binary;
  }

  get url(): string {
    return `nats://${this.#net.hostAddress(this.#index)}:${CLIENT_PORT}`;
  }

  get monitorUrl(): string {
    return `http://${this.#net.hostAddress(this.#index)}:${MONITOR_PORT}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get output(): string {
    return this.#output;
  }

  start(): void {
    const binary = this.#binary ?? natsServerBinary();
    if (binary === null) throw new Error("nats-server binary not found");
    mkdirSync(this.#dir, { recursive: true });
    const config = join(this.#dir, "nats.conf");
    writeFileSync(config, this.#config());
    const child = this.#net.spawn(this.#index, binary, ["-c", config]);
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-32_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.#child = child;
  }

  /** SIGTERM by PID and wait for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }

  /** Answers `GET /healthz` of the monitoring port: 200 once JetStream is up and current. */
  async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** A monitoring endpoint's JSON (`varz`, `routez`, `jsz?…`), for the test's record. */
  async monitor(path: string): Promise<unknown> {
    const res = await fetch(`${this.monitorUrl}/${path}`, { signal: AbortSignal.timeout(5_000) });
    return res.json();
  }

  #config(): string {
    const net = this.#net;
    const routes = Array.from({ length: net.nodes }, (_, j) => j)
      .filter((j) => j !== this.#index)
      .map((j) => `"nats-route://${net.clusterAddress(j)}:${CLUSTER_PORT}"`)
      .join(", ");
    return [
      `server_name: n${this.#index + 1}`,
      `listen: "${net.hostAddress(this.#index)}:${CLIENT_PORT}"`,
      `http: "${net.hostAddress(this.#index)}:${MONITOR_PORT}"`,
      "max_payload: 8MB",
      // Routes notice a cut within seconds, not the default two minutes.
      'ping_interval: "1s"',
      "ping_max: 3",
      `jetstream { store_dir: ${JSON.stringify(join(this.#dir, "store"))} }`,
      // no_advertise: a client knows only the server it was given, so a router stays on its side.
      `cluster { name: sy, listen: "${net.clusterAddress(this.#index)}:${CLUSTER_PORT}", routes: [${routes}], no_advertise: true }`,
      "",
    ].join("\n");
  }
}
