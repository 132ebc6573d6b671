import { quoteDerived, quoteTable } from "../client/sql-names.js";

/** The SQL names belonging to one outbox table. */
export interface OutboxNames {
  /** The table the application writes (`outbox`). */
  readonly table: string;
  /** Its id sequence (`outbox_id_seq`), as a regclass literal for `nextval`. */
  readonly sequence: string;
  /** The relay's one-row state (`outbox_relay`). */
  readonly state: string;
  readonly stampFunction: string;
  readonly stampTrigger: string;
}

export function outboxNames(table: string): OutboxNames {
  return {
    table: quoteTable(table),
    sequence: quoteDerived(table, "_id_seq"),
    state: quoteDerived(table, "_relay"),
    stampFunction: quoteDerived(table, "_stamp"),
    // A trigger's name is not schema-qualified.
    stampTrigger: `"${table.split(".").at(-1)}_stamp"`,
  };
}

/**
 * The outbox schema, idempotent (`switchyard outbox init` runs it; docs/outbox.md prints it).
 *
 * The trigger is what makes the relay's cursor safe: it gives the inserting transaction its
 * xid *before* the row takes an id from the sequence, whatever the INSERT looks like. So any
 * id the sequence has handed out belongs to a transaction whose xid is below the xmax of a
 * snapshot taken afterwards; once every such transaction has ended, every row up to that id
 * is either visible or never will be (see docs/outbox.md "Why no row is skipped").
 */
export function outboxSchemaSql(table: string): string {
  const n = outboxNames(table);
  return `CREATE SEQUENCE IF NOT EXISTS ${n.sequence};
CREATE TABLE IF NOT EXISTS ${n.table} (
  id bigint PRIMARY KEY,
  xid xid8 NOT NULL,
  topic text NOT NULL,
  event json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION ${n.stampFunction}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.xid := pg_current_xact_id();
  NEW.id := nextval('${n.sequence.replaceAll("'", "''")}');
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS ${n.stampTrigger} ON ${n.table};
CREATE TRIGGER ${n.stampTrigger} BEFORE INSERT ON ${n.table}
  FOR EACH ROW EXECUTE FUNCTION ${n.stampFunction}();
CREATE TABLE IF NOT EXISTS ${n.state} (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  published_to bigint NOT NULL DEFAULT 0,
  sending_to bigint NOT NULL DEFAULT 0,
  sending_since timestamptz
);
INSERT INTO ${n.state} DEFAULT VALUES ON CONFLICT DO NOTHING;
`;
}
