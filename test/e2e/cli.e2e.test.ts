/**
 * The real `switchyard` command (bin/switchyard.js → dist/cli/main.js), spawned as a user
 * would run it: a dev router, then client commands against it, then bad input.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { type CliRun, runCli } from "../support/cli-run.js";
import { eventually } from "../support/eventually.js";
import { startSink } from "../support/http-sink.js";
import { uniqueName } from "../support/router.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(root, "bin/switchyard.js");
const work = mkdtempSync(join(tmpdir(), "switchyard-cli-e2e-"));

type Run = CliRun;

interface Started {
  readonly process: ChildProcess;
  readonly url: string;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

function newestMtime(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return newestMtime(path);
      return path.endsWith(".ts") && !path.endsWith(".test.ts") ? statSync(path).mtimeMs : 0;
    }),
  );
}

/** Builds dist/ when any source is newer than it (the bin runs the built code). */
function ensureBuilt(): void {
  const main = join(root, "dist/cli/main.js");
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(root, "src"))) return;
  const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
  // Type errors elsewhere in the tree still emit JavaScript; only a missing CLI is fatal.
  if (!existsSync(main) || statSync(main).mtimeMs < newestMtime(join(root, "src")))
    throw new Error(`npm run build did not produce ${main}:\n${build.stdout}\n${build.stderr}`);
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { cwd: work, env });
}

/** Spawns a long-running command and waits for `ready` to match its stdout. */
async function start(
  args: readonly string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<Started> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
  const url = await eventually(
    () => {
      const match = ready.exec(out);
      if (!match?.[1]) throw new Error(`not ready yet; output so far:\n${out}`);
      return match[1];
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  return {
    process: child,
    url,
    output: () => out,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

function expectOneLineError(run: Run, code: string, exitCode: number): void {
  const lines = run.stderr.trim().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error: .+ \\(${code}\\) — .+$`));
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(exitCode);
}

let dev: Started;
let env: Record<string, string>;

beforeAll(async () => {
  ensureBuilt();
  dev = await start(
    ["dev", "--port", "0", "--data", join(work, "dev-data")],
    /API\s+(http:\/\/\S+)\/v1/,
  );
  env = { SWITCHYARD_URL: dev.url };
}, 180_000);

afterAll(async () => {
  if (dev) expect(await dev.stop()).toBe(0);
  rmSync(work, { recursive: true, force: true });
});

describe("switchyard dev", () => {
  it("prints a banner with the API, OpenAPI, dashboard and metrics URLs, and serves them", async () => {
    const banner = dev.output();
    expect(banner).toContain(`${dev.url}/openapi.json`);
    expect(banner).toMatch(new RegExp(`Dashboard\\s+${dev.url.replace(/\./g, "\\.")}/ui/\n`));
    expect(banner).toContain(`${dev.url}/metrics`);
    expect(banner).toContain(join(work, "dev-data"));
    expect((await fetch(`${dev.url}/healthz`)).ok).toBe(true);
    expect((await fetch(`${dev.url}/openapi.json`)).ok).toBe(true);
    const ui = await fetch(`${dev.url}/ui/`);
    expect(ui.ok).toBe(true);
    expect(await ui.text()).toContain('<div id="app">');
  });

  it("stops cleanly with exit code 0 on SIGTERM", async () => {
    const other = await start(
      ["dev", "--port", "0", "--data", join(work, "other")],
      /API\s+(http:\/\/\S+)\/v1/,
    );
    expect(await other.stop()).toBe(0);
    expect(other.output()).toContain("closing the router");
  });
});

describe("switchyard flow", () => {
  it("prints a flow across auto-created topics (dev indexes them) as a causation tree", async () => {
    const c = createClient({ url: dev.url, source: "/cli-e2e" });
    const orders = uniqueName("fl.orders");
    const payments = uniqueName("fl.payments");
    const flow = uniqueName("order");
    try {
      await c.publish(orders, { id: "placed", type: "order.placed", correlationid: flow });
      await new Promise((r) => setTimeout(r, 30));
      await c.publish(payments, {
        id: "paid",
        type: "payment.captured",
        correlationid: flow,
        causationid: "placed",
      });
      await c.publish(orders, {
        id: "shipped",
        type: "order.shipped",
        correlationid: flow,
        causationid: "paid",
      });
      await c.publish(orders, {
        id: "noted",
        type: "order.noted",
        correlationid: flow,
        causationid: "placed",
      });
    } finally {
      await c.close();
    }
    const run = await cli(["flow", flow], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`flow ${flow}: 4 events on 2 topics`);
    expect(lines[1]).toMatch(
      new RegExp(`^order\\.placed placed \\(${orders}#1\\)  \\d{4}-\\d{2}-\\d{2} [\\d:.]+$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^├─ payment\\.captured paid \\(${payments}#1\\)  \\+\\d+ ms$`),
    );
    expect(lines[3]).toMatch(/^│ {2}└─ order\.shipped shipped \(.+#2\) {2}\+\d+ ms$/);
    expect(lines[4]).toMatch(/^└─ order\.noted noted \(.+#3\) {2}\+\d+ ms$/);
    expect(Number(/\+(\d+) ms/.exec(lines[2] ?? "")?.[1])).toBeGreaterThanOrEqual(25);
    expect(lines).toHaveLength(5);
    const json = await cli(["flow", flow, "--json", "--limit", "2"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      truncated: true,
      hidden: 0,
      edges: [{ from: "placed", to: "paid" }],
    });
    const none = await cli(["flow", uniqueName("nobody")], env);
    expect(none.stdout).toMatch(/^no events carry correlationid /);
  });

  it("fails with one line and a non-zero exit", async () => {
    expectOneLineError(await cli(["flow", "x", "--limit", "0"], env), "usage", 2);
    const down = await cli(["flow", "x", "--url", `http://127.0.0.1:${await closedPort()}`]);
    expectOneLineError(down, "unreachable", 1);
  });
});

describe("client commands against the dev router", () => {
  it("publishes one event, then a JSON Lines file, and tails them", async () => {
    const topic = uniqueName("orders");
    const one = await cli(
      ["publish", topic, "--type", "order.placed", "--data", '{"id":1}', "--key", "c1"],
      env,
    );
    expect(one.stderr).toBe("");
    expect(one.stdout).toMatch(new RegExp(`^published \\S+ to ${topic} at offset 1\\n$`));
    const again = await cli(["publish", topic, "--type", "t", "--id", "fixed", "--json"], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: "fixed", offset: 2, duplicate: false });
    const repeat = await cli(["publish", topic, "--type", "t", "--id", "fixed"], env);
    expect(repeat.stdout).toContain("duplicate of offset 2");

    const file = join(work, `${topic}.jsonl`);
    const lines = Array.from({ length: 50 }, (_, n) =>
      JSON.stringify({ type: "bulk", data: { n } }),
    );
    writeFileSync(file, `${lines.join("\n")}\n`);
    const bulk = await cli(["publish", topic, "--file", file], env);
    expect(bulk.stdout).toMatch(/^published 50 events to \S+ \(50 new, 0 duplicates\) in .+\n$/);

    const json = await cli(["tail", topic, "--from", "1", "--no-follow", "--json"], env);
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.offset)).toEqual(Array.from({ length: 52 }, (_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: "order.placed", partitionkey: "c1", data: { id: 1 } });

    const pretty = await cli(["tail", topic, "--from", "1", "-n", "1"], env);
    expect(pretty.stdout).toMatch(
      /^#1 {2}.+ {2}order\.placed {2}id=\S+ {2}source=switchyard-cli {2}key=c1\n {2}\{"id":1\}\n$/,
    );
  });

  it("follows a topic from its end until the count is reached", async () => {
    const topic = uniqueName("follow");
    await cli(["topics", "create", topic], env);
    await cli(["publish", topic, "--type", "old"], env);
    let done = false;
    const tail = cli(["tail", topic, "-n", "1", "--json", "--poll-ms", "20"], env).finally(() => {
      done = true;
    });
    // Publish until the tail, started at the end, has printed one: it must never print "old".
    const sdk = createClient({ url: dev.url });
    while (!done) {
      await sdk.publish(topic, { type: "new" });
      await new Promise((r) => setTimeout(r, 100));
    }
    await sdk.close();
    const printed = await tail;
    expect(JSON.parse(printed.stdout)).toMatchObject({ type: "new" });
  });

  it("manages topics and subscriptions", async () => {
    const topic = uniqueName("admin");
    const sub = uniqueName("mailer");
    expect((await cli(["topics", "create", topic, "--retention-age", "7d"], env)).stdout).toBe(
      `created topic ${topic}\n`,
    );
    await cli(["publish", topic, "--type", "x"], env);
    const list = await cli(["topics"], env);
    expect(list.stdout).toMatch(/^TOPIC +EVENTS +SIZE +OFFSETS +RETENTION\n/);
    expect(list.stdout).toMatch(
      new RegExp(`\\n${topic.replaceAll(".", "\\.")} +1 +\\d+ B +1\\.\\.1 +7d\\n`),
    );
    expect((await cli(["topics", "get", topic], env)).stdout).toMatch(/events +1\n/);
    expect(JSON.parse((await cli(["topics", "get", topic, "--json"], env)).stdout)).toMatchObject({
      name: topic,
      retention: { maxAgeMs: 604_800_000 },
    });

    const created = await cli(
      ["subs", "create", sub, "--topic", topic, "--start", "earliest", "--ack-timeout", "10s"],
      env,
    );
    expect(created.stdout).toBe(`created subscription ${sub} on ${topic}\n`);
    expect((await cli(["subs", "list"], env)).stdout).toMatch(
      new RegExp(`\\n${sub} +${topic} +pull +1 `),
    );
    expect(JSON.parse((await cli(["subs", "get", sub, "--json"], env)).stdout)).toMatchObject({
      ackTimeoutMs: 10_000,
    });

    const consumed = await cli(["tail", "--sub", sub, "-n", "1", "--json"], env);
    expect(JSON.parse(consumed.stdout)).toMatchObject({
      attempt: 1,
      event: { type: "x", offset: 1 },
    });
    const stats = JSON.parse((await cli(["subs", "get", sub, "--json"], env)).stdout).stats;
    expect(stats).toMatchObject({ acked: 1, lag: 0 });

    expect((await cli(["seek", sub, "earliest"], env)).stdout).toBe(`moved ${sub} to offset 1\n`);
    expect(JSON.parse((await cli(["subs", "get", sub, "--json"], env)).stdout).stats.lag).toBe(1);

    const inUse = await cli(["topics", "delete", topic], env);
    expectOneLineError(inUse, "topic_in_use", 1);
    expect((await cli(["topics", "delete", topic, "--force"], env)).stdout).toBe(
      `deleted topic ${topic}\n`,
    );
  }, 60_000); // a dozen CLI processes, each starting Node: slow on a loaded machine

  it("lists dead letters and redrives them with progress until done", async () => {
    const topic = uniqueName("dlq");
    const sub = uniqueName("worker");
    const sdk = createClient({ url: dev.url });
    await sdk.admin.topics.put(topic);
    await sdk.admin.subscriptions.put(sub, { topic, start: "earliest" });
    const { id } = await sdk.publish(topic, { type: "poison" });
    const [delivery] = await sdk.admin.pull(sub, { max: 1, waitMs: 2_000 });
    await sdk.admin.reject(sub, [delivery?.ackId ?? ""], "bad payload");

    const list = await eventually(async () => {
      const run = await cli(["dlq", "list", sub], env);
      expect(run.stdout).toContain(id);
      return run;
    });
    expect(list.stdout).toMatch(/^OFFSET +DEAD-LETTERED +TYPE +ID +ATTEMPTS +REASON\n/);
    expect(list.stdout).toContain("bad payload");

    expect((await cli(["dlq", "redrive", sub, "--dry-run"], env)).stdout).toBe(
      `dry run: would redrive 1 events (0 ordering keys) to ${sub}\n`,
    );
    const redrive = await cli(["dlq", "redrive", sub, "--poll-ms", "20"], env);
    expect(redrive.stdout).toMatch(
      new RegExp(`^redrove 1 events to ${sub} \\(redrive \\S+\\)\\n$`),
    );
    const [back] = await sdk.admin.pull(sub, { max: 1, waitMs: 2_000 });
    expect(back).toMatchObject({ attempt: 1, event: { id } });
    await sdk.close();

    const dlq = `${topic}.${sub}.dlq`;
    expect((await cli(["topics", "get", dlq], env)).stdout).toMatch(/^owner +the router/m);
    expectOneLineError(await cli(["publish", dlq, "--type", "t"], env), "forbidden", 1);
  });
});

describe("switchyard dev: push", () => {
  it("pushes to a loopback endpoint (dev allows it), shows attempts, pauses and resumes", async () => {
    const sink = await startSink();
    try {
      const topic = uniqueName("hooks");
      const sub = uniqueName("hook");
      const created = await cli(
        ["subs", "create", sub, "--topic", topic, "--push-url", sink.url, "--push-batch", "5"],
        env,
      );
      expect(created.stdout, created.stderr).toBe(`created subscription ${sub} on ${topic}\n`);
      const sdk = createClient({ url: dev.url });
      await sdk.publish(topic, [{ type: "a" }, { type: "b" }]);
      await sdk.close();
      await eventually(() => expect(sink.requests.length).toBeGreaterThan(0));
      const attempts = await eventually(async () => {
        const run = await cli(["attempts", sub], env);
        expect(run.stdout).toMatch(/ 204 /);
        return run;
      });
      expect(attempts.stdout).toMatch(/^AT +EVENT +OFFSET +ATTEMPT +STATUS +LATENCY +ERROR/);
      expect((await cli(["subs", "pause", sub, "--reason", "deploying"], env)).stdout).toBe(
        `paused ${sub}\n`,
      );
      const got = await cli(["subs", "get", sub], env);
      expect(got.stdout).toMatch(/state +paused/);
      expect(got.stdout).toMatch(/paused because +deploying/);
      expect((await cli(["subs", "resume", sub], env)).stdout).toBe(`resumed ${sub} (healthy)\n`);
    } finally {
      await sink.close();
    }
  });
});

describe("bad input", () => {
  it("answers usage errors with one line and exit code 2", async () => {
    expectOneLineError(await cli(["publish", "orders"], env), "usage", 2);
    expectOneLineError(
      await cli(["publish", "orders", "--type", "t", "--data", "{nope"], env),
      "usage",
      2,
    );
    expectOneLineError(await cli(["seek", "s", "whenever"], env), "usage", 2);
    expectOneLineError(await cli(["frobnicate"], env), "usage", 2);
    expectOneLineError(await cli(["topics", "--no-such-flag"], env), "usage", 2);
    expectOneLineError(await cli(["tail"], env), "usage", 2);
    expectOneLineError(await cli(["dev", "--engine", "postgres"]), "usage", 2);
    expectOneLineError(await cli(["dev", "--port", "70000"]), "usage", 2);
    expectOneLineError(await cli(["serve", "--config", join(work, "missing.json")]), "usage", 2);
  });

  it("answers router errors with their code and what to do, exit code 1", async () => {
    const missing = await cli(["topics", "get", uniqueName("nope")], env);
    expectOneLineError(missing, "topic_not_found", 1);
    expect(missing.stderr).toContain("switchyard topics create");
    expectOneLineError(
      await cli(["tail", "--sub", uniqueName("ghost")], env),
      "subscription_not_found",
      1,
    );
    expectOneLineError(await cli(["publish", "bad name", "--type", "t"], env), "invalid_name", 1);
  });

  it("says when no router is listening", async () => {
    const port = await closedPort();
    const run = await cli(["topics", "--url", `http://127.0.0.1:${port}`]);
    expectOneLineError(run, "unreachable", 1);
    expect(run.stderr).toContain("switchyard dev");
  });

  it("says when the port is taken", async () => {
    const port = new URL(dev.url).port;
    const run = await cli(["dev", "--port", port, "--data", join(work, "taken")]);
    expect(run.stderr.trim().split("\n").at(-1)).toMatch(
      /^error: .+ is already in use \(EADDRINUSE\) — .+$/,
    );
    expect(run.code).toBe(1);
  });

  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
    const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
    const [major = 99, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
    return version !== "" && (major < 22 || (major === 22 && minor < 13));
  });
  it.skipIf(oldNode === undefined)(
    "refuses a Node older than 22.13 in one line (needs an old node on this machine)",
    () => {
      const run = spawnSync(oldNode ?? "node", [bin, "--version"], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(/^switchyard needs Node\.js 22\.13 or newer/);
    },
  );
});

describe("switchyard serve", () => {
  it("takes settings from flags over env over the config file", async () => {
    const config = join(work, "switchyard.json");
    writeFileSync(
      config,
      JSON.stringify({
        port: 1,
        dataDir: join(work, "from-file"),
        logLevel: "silent",
        fsync: "interval",
      }),
    );
    const serve = await start(
      ["serve", "--no-auth", "--config", config, "--data", join(work, "from-flag")],
      /listening on (http:\/\/\S+)/,
      { SWITCHYARD_PORT: "0", SWITCHYARD_FSYNC: "always" },
    );
    expect(serve.output()).toMatch(/\(sqlite, data .+from-flag, fsync always\)/);
    expect((await fetch(`${serve.url}/readyz`)).ok).toBe(true);
    expect(existsSync(join(work, "from-flag"))).toBe(true);
    expect(await serve.stop()).toBe(0);
  });
});

/**
 * A port nothing listens on (bound, then released). Chosen up front on purpose: the test needs
 * a port with no listener, and no child binds it (so this is not the freePort race).
 */
function closedPort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}
