import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxRelay } from "../../src/outbox/relay.js";
import { runCli } from "../support/cli-run.js";
import { databasePerFile } from "../support/postgres.js";
import { routerPerFile } from "../support/router.js";

const database = databasePerFile();
const router = routerPerFile({ autoCreateTopics: true });
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
});
afterAll(() => pool.end());

describe("switchyard outbox", () => {
  it("init creates the table; relay refuses while another holds the lock, and stale rows without --force", async () => {
    const init = await runCli([
      "outbox",
      "init",
      "--postgres",
      database.url,
      "--table",
      "cli_outbox",
    ]);
    expect(init).toMatchObject({ code: 0, stdout: "outbox table cli_outbox ready\n" });
    const args = [
      "outbox",
      "relay",
      "--postgres",
      database.url,
      "--table",
      "cli_outbox",
      "--router",
      router.url,
    ];

    const holder = await OutboxRelay.start({
      postgres: database.url,
      table: "cli_outbox",
      router: { url: router.url },
    });
    const locked = await runCli(args);
    await holder.stop();
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(
      /^error: another relay holds the lock on "cli_outbox" .*\(relay_locked\)/,
    );

    await pool.query(
      `INSERT INTO cli_outbox (topic, event) VALUES ('cli-orders', '{"specversion":"1.0","id":"x1","source":"sql","type":"t"}')`,
    );
    await pool.query(
      "UPDATE cli_outbox_relay SET sending_to = 1, sending_since = now() - interval '6 minutes'",
    );
    const stale = await runCli(args);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /rows 1\.\.1 of "cli_outbox" may have been published 36\d s ago.*\(stale_rows\) — .*--force/,
    );
  });

  it("answers a missing --postgres with a usage error", async () => {
    const run = await runCli(["outbox", "relay"], { env: { DATABASE_URL: "" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--postgres is required \(usage\)/);
  });
});
