/**
 * What the SDK needs of a `pg` client, pool client or transaction: `query`. Structural, so
 * the SDK never imports `pg` (an optional peer dependency) and takes the application's own.
 */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ readonly rowCount: number | null; readonly rows: readonly unknown[] }>;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * A table name as an SQL identifier, optionally schema-qualified (`app.outbox`). Only plain
 * names are accepted: they end up in SQL text, and derived names (`outbox_relay`) stay short.
 */
export function quoteTable(name: string): string {
  const parts = name.split(".");
  if (parts.length > 2 || !parts.every((part) => PLAIN.test(part)))
    throw new TypeError(
      `table name ${JSON.stringify(name)} must be [schema.]name of letters, digits and _ (at most 48 each)`,
    );
  return parts.map((part) => `"${part}"`).join(".");
}

/** `name` with `suffix` appended to its last part, quoted: `app.outbox` → `"app"."outbox_relay"`. */
export function quoteDerived(name: string, suffix: string): string {
  quoteTable(name);
  const parts = name.split(".");
  parts[parts.length - 1] = `${parts[parts.length - 1]}${suffix}`;
  return parts.map((part) => `"${part}"`).join(".");
}
