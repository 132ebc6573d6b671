// The pooled-client and transaction handling every PostgreSQL helper of the SDK shares.
import type { PgPoolClientLike, PgPoolLike } from "./inbox.js";

/** Runs `run` on a pooled client; one whose ROLLBACK failed (`broken`) is not reused. */
export async function withPgClient<R>(
  pool: PgPoolLike,
  run: (client: PgPoolClientLike, broken: (error: unknown) => void) => Promise<R>,
): Promise<R> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    return await run(client, (error) => {
      failed = error instanceof Error ? error : new Error(String(error));
    });
  } finally {
    client.release(failed);
  }
}

/** `run` between BEGIN and COMMIT on a pooled client, rolled back when it throws. */
export function inPgTransaction<R>(
  pool: PgPoolLike,
  run: (client: PgPoolClientLike) => Promise<R>,
): Promise<R> {
  return withPgClient(pool, async (client, broken) => {
    await client.query("BEGIN");
    try {
      const result = await run(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(broken);
      throw error;
    }
  });
}
