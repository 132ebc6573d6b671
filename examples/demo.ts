/**
 * `npm run demo`: the router and every service of the shop and the notification service as
 * child processes, data in `.switchyard/demo/`. Prints the URLs and opens nothing. Type
 * `stop <service>` / `start <service>` to kill and restart one and watch the rest cope.
 *
 * Checkout needs PostgreSQL: `SHOP_DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/switchyard_shop; the database is created when missing).
 *
 * The router runs with auth. Its admin key (new each run) is never printed: it is written to
 * `<data>/admin.key` (mode 0600) for the CLI; each service runs with its own key.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { Fleet, SERVICES, type ServiceName } from "./shop/fleet.ts";
import { redact } from "./shop/keys.ts";

const ADDED_LATER = new Set<ServiceName>(["slack", "profiles"]);
const dataDir = process.env.DEMO_DATA ?? ".switchyard/demo";
const databaseUrl =
  process.env.SHOP_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/switchyard_shop";
await ensureDatabase(databaseUrl);
const fleet = new Fleet({
  dataDir,
  databaseUrl,
  ports: { checkout: Number(process.env.DEMO_PORT ?? 8400) },
  onOutput: (name, line) => {
    if (!line.includes(" ready ")) console.log(`  [${name}] ${line}`);
  },
});
await fleet.init();

/** Creates the URL's database when the server does not have it yet (the first demo run). */
async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const server = new URL(url);
  server.pathname = "/postgres";
  const db = new pg.Client({ connectionString: server.toString() });
  try {
    await db.connect();
  } catch (error) {
    console.error(`the shop needs PostgreSQL (SHOP_DATABASE_URL=${url}): ${String(error)}`);
    process.exit(1);
  }
  try {
    const found = await db.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) await db.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await db.end();
  }
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("stopping…");
  await fleet.stopAll();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

await fleet.start("router");
const adminKeyFile = join(dataDir, "admin.key");
writeFileSync(adminKeyFile, `${fleet.adminKey}\n`, { mode: 0o600 });
for (const name of SERVICES) if (!ADDED_LATER.has(name)) await fleet.start(name);

console.log(`
  Switchyard shop demo

  Storefront      ${fleet.url("checkout")}/
  Router API      ${fleet.url("router")}/v1   (auth on; admin key ${redact(fleet.adminKey)} in ${adminKeyFile})
                  SWITCHYARD_API_KEY=$(cat ${adminKeyFile}) npx switchyard subs list --url ${fleet.url("router")}
  Dashboard       ${fleet.url("router")}/ui/   (sign in with the admin key; an order's flow: /ui/flows/<order id>)
  Order history   ${fleet.url("history")}/orders
  Slack channel   not started yet: type "start slack" (its URL is printed then)
  Profiles        not started yet: type "start profiles" (its URL is printed then)
  Notify (POST)   ${fleet.url("notifications")}/notify
  SMS (phones)    ${fleet.url("sms")}/phones      (POST {"customerId","phone"})
  Inventory       ${fleet.url("inventory")}/state
  Database        ${databaseUrl}   (checkout's orders and its outbox; "stop relay" holds every event back)
  Data            ${dataDir}/

  Commands: start <service> | stop <service> | quit
  Services: ${SERVICES.join(", ")}
`);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [command, name] = line.trim().split(/\s+/);
  if (command === "quit" || command === "exit") return void shutdown();
  if (!name || !(SERVICES as readonly string[]).includes(name)) {
    return void console.log(`usage: start|stop <${SERVICES.join("|")}>`);
  }
  const service = name as ServiceName;
  const action = command === "stop" ? fleet.stop(service) : fleet.start(service);
  action.then(
    () =>
      console.log(
        command === "stop" ? `${service} stopped` : `${service} started: ${fleet.url(service)}`,
      ),
    (error: unknown) => console.log(String(error)),
  );
});
// No stdin (e.g. started in the background): keep running until Ctrl+C / SIGTERM.
