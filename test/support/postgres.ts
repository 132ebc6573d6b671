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

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sy_test_${randomBytes(6).toString("hex")}`;
  await admin((db) => db.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: `${POSTGRES_SERVER}/${name}`,
    // WITH (FORCE) ends sessions a failed test left open.
    drop: () =>
      admin((db) => db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
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
