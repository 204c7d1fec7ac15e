//! Everything about the SQL model that depends on the database engine, in
//! one place: the schema text, the version bookkeeping and the connection
//! settings. The operations (`model.rs`) use only plain SQL that SQLite and
//! PostgreSQL share (`INSERT ... RETURNING`, partial indexes, `LIMIT`,
//! BLOB/bytea comparisons), except for what is listed here.
//!
//! The PostgreSQL dialect (second half of this file) differs in:
//! - ids: `INTEGER PRIMARY KEY AUTOINCREMENT` here, `BIGINT GENERATED ALWAYS
//!   AS IDENTITY` there (both never reuse an id);
//! - BLOB is `bytea`; placeholders `?N` are rewritten to `$N` (`db.rs`);
//! - the schema version lives in `PRAGMA user_version` plus
//!   `PRAGMA application_id` here, in a `coordinate_schema` table there;
//! - rows: SQLite serialises writers (`BEGIN IMMEDIATE`); on PostgreSQL the
//!   model's reads of rows it may change end with a row-locking clause
//!   (`Db::lock`: claims and the expiry sweep skip rows others hold, see
//!   `pg.rs`), each connection adds its count changes to its own
//!   `spec_counts` row of the spec (`Db::count_shard`), and the store
//!   retries serialization failures and deadlocks.

/// The `application_id` stamped in every Coordinate SQLite file ("Crdn").
pub const APPLICATION_ID: i32 = 0x4372_646e;

/// The schema version this build writes. Files with a smaller version are
/// migrated on open; a larger one is refused.
pub const SCHEMA_VERSION: i32 = 2;

/// The SQL that brings a schema from version `from` to `from + 1`.
pub fn migration(from: i32) -> Option<&'static str> {
    match from {
        0 => Some(SCHEMA_V1),
        1 => Some(SCHEMA_V2),
        _ => None,
    }
}

/// Version 2: a spec's counts are the sums of several `spec_counts` rows
/// (`shard`), so that connections changing one spec's counts add to
/// different rows (PostgreSQL; SQLite, one writer at a time, keeps one
/// row per spec). A spec with no row counts zero everywhere.
const SCHEMA_V2: &str = "
CREATE TABLE spec_counts_v2 (
    spec INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    available INTEGER NOT NULL DEFAULT 0,
    delayed INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (spec, shard)
);
INSERT INTO spec_counts_v2 (spec, shard, available, delayed, pending, finished, failed)
    SELECT spec, 0, available, delayed, pending, finished, failed FROM spec_counts;
DROP TABLE spec_counts;
ALTER TABLE spec_counts_v2 RENAME TO spec_counts;
";

/// Version 1: the whole model.
///
/// Units with no active attempt sit in exactly one queue (`queue` 0:
/// available, 1: delayed; NULL when the unit has an active attempt), like the
/// memory engine's two B-trees, so that the request path reads one index
/// entry and the counts in `spec_counts` stay exact without `COUNT(*)`.
/// `attempts.expiring` is 1 exactly for Pending attempts that are their
/// unit's active attempt: the ones the lazy expiry sweep may expire.
const SCHEMA_V1: &str = "
CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE work_specs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    meta BLOB NOT NULL,
    UNIQUE (ns, name)
);
CREATE TABLE spec_counts (
    spec INTEGER PRIMARY KEY,
    available INTEGER NOT NULL DEFAULT 0,
    delayed INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE work_units (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec INTEGER NOT NULL,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    prio INTEGER NOT NULL,
    not_before BLOB,
    queue INTEGER,
    active INTEGER,
    num_attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (spec, name)
);
CREATE INDEX units_available ON work_units (spec, prio DESC, name) WHERE queue = 0;
CREATE INDEX units_delayed ON work_units (spec, not_before) WHERE queue = 1;
CREATE INDEX units_timed ON work_units (spec, not_before)
    WHERE queue = 0 AND not_before IS NOT NULL;
CREATE TABLE workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    parent INTEGER,
    active INTEGER NOT NULL,
    mode TEXT NOT NULL,
    data BLOB NOT NULL,
    expiration BLOB NOT NULL,
    last_update BLOB NOT NULL,
    UNIQUE (ns, name)
);
CREATE INDEX workers_parent ON workers (parent, name) WHERE parent IS NOT NULL;
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec INTEGER NOT NULL,
    unit INTEGER NOT NULL,
    worker INTEGER NOT NULL,
    status INTEGER NOT NULL,
    data BLOB NOT NULL,
    start_time BLOB NOT NULL,
    end_time BLOB,
    expiration BLOB NOT NULL,
    expiring INTEGER
);
CREATE INDEX attempts_expiring ON attempts (spec, expiration) WHERE expiring = 1;
CREATE INDEX attempts_unit ON attempts (unit);
CREATE INDEX attempts_worker ON attempts (worker);
CREATE INDEX attempts_worker_pending ON attempts (worker) WHERE status = 0;
";

/// How long a call waits for another process's write transaction, in ms:
/// `ConnectOptions::timeout`, or 30 s.
pub fn busy_timeout_ms(timeout: Option<std::time::Duration>) -> u64 {
    timeout.map_or(30_000, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
}

// ---- PostgreSQL ----

/// The key of the advisory lock (`pg_advisory_xact_lock`) that serialises
/// schema creation and migrations: two processes opening one database at
/// once run them one after the other, and the second finds nothing to do.
pub const PG_MIGRATION_LOCK: i64 = APPLICATION_ID as i64;

/// The version table, created (if absent) under the migration lock.
pub const PG_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS coordinate_schema (
    version BIGINT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// The PostgreSQL SQL that brings a schema from version `from` to `from + 1`.
pub fn pg_migration(from: i32) -> Option<&'static str> {
    match from {
        0 => Some(PG_SCHEMA_V1),
        1 => Some(PG_SCHEMA_V2),
        _ => None,
    }
}

/// Version 2 on PostgreSQL: as [`SCHEMA_V2`], in place.
const PG_SCHEMA_V2: &str = "
ALTER TABLE spec_counts ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE spec_counts DROP CONSTRAINT spec_counts_pkey;
ALTER TABLE spec_counts ADD PRIMARY KEY (spec, shard);
ALTER TABLE spec_counts ALTER COLUMN shard DROP DEFAULT;
";

/// Version 1 on PostgreSQL: the same tables, columns and partial indexes
/// as [`SCHEMA_V1`], with `BIGINT` identities (never reused, like
/// AUTOINCREMENT), `BIGINT` integers (the model binds 64-bit values),
/// `bytea` for blobs (compared bytewise, like SQLite's BLOBs, which the
/// time encoding relies on) and names in the "C" collation (byte order,
/// as SQLite sorts them, whatever the database's locale).
const PG_SCHEMA_V1: &str = r#"
CREATE TABLE namespaces (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE TABLE work_specs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ns BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    data BYTEA NOT NULL,
    meta BYTEA NOT NULL,
    UNIQUE (ns, name)
);
CREATE TABLE spec_counts (
    spec BIGINT PRIMARY KEY,
    available BIGINT NOT NULL DEFAULT 0,
    delayed BIGINT NOT NULL DEFAULT 0,
    pending BIGINT NOT NULL DEFAULT 0,
    finished BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE work_units (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    data BYTEA NOT NULL,
    prio BIGINT NOT NULL,
    not_before BYTEA,
    queue BIGINT,
    active BIGINT,
    num_attempts BIGINT NOT NULL DEFAULT 0,
    UNIQUE (spec, name)
);
CREATE INDEX units_available ON work_units (spec, prio DESC, name) WHERE queue = 0;
CREATE INDEX units_delayed ON work_units (spec, not_before) WHERE queue = 1;
CREATE INDEX units_timed ON work_units (spec, not_before)
    WHERE queue = 0 AND not_before IS NOT NULL;
CREATE TABLE workers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ns BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    parent BIGINT,
    active BIGINT NOT NULL,
    mode TEXT NOT NULL,
    data BYTEA NOT NULL,
    expiration BYTEA NOT NULL,
    last_update BYTEA NOT NULL,
    UNIQUE (ns, name)
);
CREATE INDEX workers_parent ON workers (parent, name) WHERE parent IS NOT NULL;
CREATE TABLE attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec BIGINT NOT NULL,
    unit BIGINT NOT NULL,
    worker BIGINT NOT NULL,
    status BIGINT NOT NULL,
    data BYTEA NOT NULL,
    start_time BYTEA NOT NULL,
    end_time BYTEA,
    expiration BYTEA NOT NULL,
    expiring BIGINT
);
CREATE INDEX attempts_expiring ON attempts (spec, expiration) WHERE expiring = 1;
CREATE INDEX attempts_unit ON attempts (unit);
CREATE INDEX attempts_worker ON attempts (worker);
CREATE INDEX attempts_worker_pending ON attempts (worker) WHERE status = 0;
"#;
