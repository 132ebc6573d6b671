/**
 * The store's tables, as numbered migrations applied in order and recorded in
 * `PRAGMA user_version`. Never edit a shipped migration: append a new one. `docs/storage.md`
 * documents every table, column and index below for people inspecting a store with sqlite3.
 */
import { SwitchyardError } from "../../core/errors.js";
import type { Db } from "./database.js";

/** Offsets live in the low 42 bits of `events.event_key`; the topic id in the bits above. */
export const OFFSET_BITS = 42;
export const OFFSET_MASK = 2 ** OFFSET_BITS - 1;
/** Topic ids stay below 2^21 so that `topic_id << 42 | offset` fits a signed 64-bit integer. */
export const MAX_TOPIC_ID = 2 ** 21 - 1;

/**
 * The SQL for `topic << 42 | offset` from two bound parameters. `node:sqlite` binds every JS
 * number as a REAL, and REAL arithmetic past 2^53 rounds: from topic id 2048 on, offsets 3
 * and 4 would land on one key. The casts keep the whole computation in 64-bit integers.
 */
export function eventKeySql(topicParam: string, offsetParam: string): string {
  return `((CAST(${topicParam} AS INTEGER) << ${OFFSET_BITS}) + CAST(${offsetParam} AS INTEGER))`;
}

/** The SQL for the first key of a topic's range (`topic << 42`) from a bound parameter. */
export function topicKeySql(topicParam: string): string {
  return `(CAST(${topicParam} AS INTEGER) << ${OFFSET_BITS})`;
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE topics (
    topic_id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL UNIQUE,
    dedupe_window_ms     INTEGER NOT NULL,
    max_event_bytes      INTEGER NOT NULL,
    retention_max_age_ms INTEGER,
    retention_max_bytes  INTEGER,
    retention_max_events INTEGER,
    first_offset         INTEGER NOT NULL DEFAULT 1,
    last_offset          INTEGER NOT NULL DEFAULT 0,
    event_count          INTEGER NOT NULL DEFAULT 0,
    byte_count           INTEGER NOT NULL DEFAULT 0,
    last_appended_at     INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL
  );

  CREATE TABLE events (
    event_key     INTEGER PRIMARY KEY,
    appended_at   INTEGER NOT NULL,
    partition_key TEXT,
    body          TEXT NOT NULL
  );

  CREATE VIEW event_log AS
    SELECT t.name AS topic,
           e.event_key & ${OFFSET_MASK} AS offset,
           e.event_key AS event_key,
           strftime('%Y-%m-%dT%H:%M:%fZ', e.appended_at / 1000.0, 'unixepoch') AS appended_at,
           e.partition_key AS partition_key,
           e.body AS body
    FROM topics t
    JOIN events e
      ON e.event_key BETWEEN (t.topic_id << ${OFFSET_BITS}) AND (t.topic_id << ${OFFSET_BITS}) + ${OFFSET_MASK};

  CREATE TABLE subscriptions (
    subscription_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL UNIQUE,
    topic_id            INTEGER NOT NULL,
    dead_letter_topic   TEXT NOT NULL,
    config              TEXT NOT NULL,
    position            INTEGER NOT NULL,
    epoch               INTEGER NOT NULL DEFAULT 0,
    lease_counter       INTEGER NOT NULL DEFAULT 0,
    delivered_count     INTEGER NOT NULL DEFAULT 0,
    acked_count         INTEGER NOT NULL DEFAULT 0,
    dead_lettered_count INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
  );
  CREATE INDEX subscriptions_by_topic ON subscriptions (topic_id);

  CREATE TABLE deliveries (
    subscription_id      INTEGER NOT NULL,
    event_offset         INTEGER NOT NULL,
    partition_key        TEXT,
    state                TEXT NOT NULL CHECK (state IN ('leased', 'waiting', 'blocked')),
    attempt              INTEGER NOT NULL DEFAULT 0,
    lease_no             INTEGER NOT NULL DEFAULT 0,
    due_at               INTEGER NOT NULL DEFAULT 0,
    dead_letter_topic_id INTEGER,
    dead_letter_offset   INTEGER,
    PRIMARY KEY (subscription_id, event_offset)
  ) WITHOUT ROWID;
  CREATE INDEX deliveries_by_due ON deliveries (subscription_id, state, due_at);
  CREATE INDEX deliveries_by_key ON deliveries (subscription_id, partition_key, state, event_offset)
    WHERE partition_key IS NOT NULL;

  CREATE TABLE dead_letters (
    dead_letter_topic_id INTEGER NOT NULL,
    dead_letter_offset   INTEGER NOT NULL,
    subscription_id      INTEGER NOT NULL,
    topic_id             INTEGER NOT NULL,
    event_offset         INTEGER NOT NULL,
    event_appended_at    INTEGER NOT NULL,
    event_id             TEXT NOT NULL,
    partition_key        TEXT,
    reason               TEXT NOT NULL,
    attempts             INTEGER NOT NULL,
    dead_lettered_at     INTEGER NOT NULL,
    redriven_at          INTEGER,
    PRIMARY KEY (dead_letter_topic_id, dead_letter_offset)
  ) WITHOUT ROWID;
  CREATE INDEX dead_letters_by_subscription ON dead_letters (subscription_id, event_offset);

  CREATE TABLE dropped_topics (
    topic_id   INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    dropped_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE push_attempts (
    subscription_id INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    event_offset    INTEGER NOT NULL,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    status          INTEGER,
    latency_ms      INTEGER NOT NULL,
    error           TEXT,
    response        TEXT,
    PRIMARY KEY (subscription_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX push_attempts_by_event ON push_attempts (subscription_id, event_id, seq);
  `,
  `
  CREATE TABLE catalog (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (kind, key)
  ) WITHOUT ROWID;
  CREATE INDEX catalog_by_expiry ON catalog (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE catalog_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  );
  INSERT INTO catalog_revision (id, revision) VALUES (1, 0);
  `,
  // Router-owned topics (dead-letter topics): NULL for ordinary ones. Topics that were some
  // subscription's dead-letter topic before this column existed are marked by the broker
  // at start, on every engine alike.
  `
  ALTER TABLE topics ADD COLUMN owner TEXT CHECK (owner IN ('router'));
  `,
  // A topic's schema validation (API.md "Schemas"): NULL until a put sets it, then kept by
  // puts that leave it out, as `owner` is.
  `
  ALTER TABLE topics ADD COLUMN schema_mode TEXT CHECK (schema_mode IN ('off', 'warn', 'enforce'));
  ALTER TABLE topics ADD COLUMN schema_allow_unregistered INTEGER
    CHECK (schema_allow_unregistered IN (0, 1));
  `,
  // The event's append time on its delivery row, so an ack reports it (the append → ack
  // latency metric) from the row it deletes, without reading the event. 0 on rows written
  // before this migration: their acks report none.
  `
  ALTER TABLE deliveries ADD COLUMN appended_at INTEGER NOT NULL DEFAULT 0;
  `,
  // The correlationid index (API.md "Indexes", correlation-index.ts): NULL without it, 0 when
  // ready, n > 0 while the events below offset n are still being filled in. Rows are in
  // append order by rowid within a millisecond.
  `
  ALTER TABLE topics ADD COLUMN correlation_index INTEGER;
  CREATE TABLE correlation_index (
    correlation_id TEXT NOT NULL,
    appended_at    INTEGER NOT NULL,
    topic_id       INTEGER NOT NULL,
    event_offset   INTEGER NOT NULL
  );
  CREATE INDEX correlation_index_by_id ON correlation_index (correlation_id, appended_at);
  CREATE INDEX correlation_index_by_topic ON correlation_index (topic_id, event_offset);
  `,
  // The subject index (API.md "Event streams per subject", subject-index.ts): NULL without
  // it, 0 when ready, n > 0 while the events from offset n on are still being numbered.
  // Heads keep each stream's version (retention never lowers it); an event keeps its subject
  // and version on its own row, so a stream is one range of a partial index that goes with
  // the events (retention needs no extra delete) and log reads carry the version.
  `
  ALTER TABLE topics ADD COLUMN subject_index INTEGER;
  ALTER TABLE events ADD COLUMN subject TEXT;
  ALTER TABLE events ADD COLUMN subject_version INTEGER;
  CREATE TABLE subject_heads (
    topic_id INTEGER NOT NULL,
    subject  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, subject)
  ) WITHOUT ROWID;
  CREATE INDEX events_by_subject ON events (event_key >> ${OFFSET_BITS}, subject, subject_version)
    WHERE subject_version IS NOT NULL;
  `,
  // Scheduled events (API.md "Scheduled events", scheduled.ts): pending until `deliver_at`,
  // then moved into `events` in the same job that deletes them, so firing and cancelling are
  // decided by the one writer. `seq` orders ties and makes the page token; the counter row
  // keeps the per-topic limit check from counting a million rows.
  `
  CREATE TABLE scheduled (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id   INTEGER NOT NULL,
    deliver_at INTEGER NOT NULL,
    source     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    partition_key TEXT,
    body       TEXT NOT NULL,
    UNIQUE (topic_id, event_id, source)
  );
  CREATE INDEX scheduled_by_due ON scheduled (topic_id, deliver_at, seq);
  CREATE TABLE scheduled_counts (
    topic_id INTEGER PRIMARY KEY,
    pending  INTEGER NOT NULL
  );
  `,
  // First leases live in memory (pending-leases.ts): the ack floor and the held offsets above
  // it are what a reopen after a crash takes as leased; NULL: nothing is held.
  `
  ALTER TABLE subscriptions ADD COLUMN ack_floor INTEGER;
  ALTER TABLE subscriptions ADD COLUMN held BLOB;
  `,
];

/** Brings the store up to the latest schema, one transaction per migration. */
export function migrate(db: Db): void {
  const current = db.value("PRAGMA user_version");
  if (current > MIGRATIONS.length)
    throw new SwitchyardError(
      "engine_unavailable",
      `store schema version ${current} is newer than this Switchyard (${MIGRATIONS.length})`,
    );
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version] ?? "");
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}
