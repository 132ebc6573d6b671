/**
 * A fresh database on the machine's PostgreSQL (127.0.0.1:5432, user postgres, trust auth)
 * per test file: created in beforeAll, dropped in afterAll.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

export const POSTGRES_SERVER =
  process.env.SWITCHYARD_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432";

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/**
 * Waits (up to 3 s) for the test's own sessions to finish closing before dropping: a forced
 * drop ends them, and a pg client still closing reports that as an uncaught error. Only
 * then WITH (FORCE), for sessions a failed test left open.
 */
async function dropDatabase(name: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    try {
      await admin((db) => db.query(`DROP DATABASE IF EXISTS ${name}`));
      return;
    } catch (error) {
      // 55006: "is being accessed by other users".
      if ((error as { code?: unknown }).code !== "55006") throw error;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await admin((db) => db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sy_test_${randomBytes(6).toString("hex")}`;
  await admin((db) => db.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: `${POSTGRES_SERVER}/${name}`,
    drop: () => dropDatabase(name),
  };
}

/** One database for a whole test file; its fields are read lazily, after beforeAll. */
export function databasePerFile(): { readonly url: string } {
  let created: TestDatabase | undefined;
  beforeAll(async () => {
    created = await createTestDatabase();
  });
  afterAll(async () => {
    await created?.drop();
  });
  return {
    get url() {
      if (created === undefined) throw new Error("the file's database is used before beforeAll");
      return created.url;
    },
  };
}
