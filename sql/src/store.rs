//! The SQLite backend: opening and checking the file, one transaction per
//! operation, and the mapping of SQLite's failures to Coordinate errors.
//!
//! # Connections and threads
//! A backend holds one `rusqlite::Connection` behind a mutex: the calls of
//! one process run one at a time, which costs nothing because SQLite runs
//! one writer at a time anyway and every call writes (the lazy expiry sweep
//! is part of almost every call). Prepared statements are cached on the
//! connection. Several processes share a file through SQLite's locks: every
//! call is a `BEGIN IMMEDIATE` transaction, and a busy handler waits (30 s,
//! or `ConnectOptions::timeout`) for another writer instead of failing;
//! only a wait longer than that gives `Unavailable`.
//!
//! # fork()
//! A connection must not cross `fork()`: SQLite's locks belong to the
//! process that opened the file, so a child using its parent's connection
//! can corrupt the database. A process that forks workers opens the store
//! in each child after the fork (Python: call `coordinate.connect` in the
//! child; a `Coordinate` inherited from the parent must not be used).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use coordinate::backend::{Op, Reply};
use coordinate::{Backend, Clock, ConnectOptions, Error, Result, SystemClock};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::db::SqlError;
use crate::dialect::{self, APPLICATION_ID, SCHEMA_VERSION};
use crate::model;
use crate::url::{SqliteUrl, Synchronous};

/// A failure inside an operation: the API's own error (which commits what
/// the operation did before it, exactly as the memory engine keeps it), or a
/// store failure (which rolls the operation back).
#[derive(Debug)]
pub enum DbError {
    /// A Coordinate error the operation returns.
    Api(Error),
    /// The engine failed.
    Sql(SqlError),
    /// A stored value could not be decoded.
    Corrupt(String),
}

impl DbError {
    pub(crate) fn corrupt(reason: String) -> DbError {
        DbError::Corrupt(reason)
    }
}

impl From<Error> for DbError {
    fn from(e: Error) -> Self {
        DbError::Api(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sql(SqlError::Sqlite(e))
    }
}

impl From<SqlError> for DbError {
    fn from(e: SqlError) -> Self {
        DbError::Sql(e)
    }
}

/// The Coordinate error for a SQLite failure on `path`.
pub(crate) fn sql_error(path: &Path, e: &rusqlite::Error) -> Error {
    let reason = format!("{}: {e}", path.display());
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Unavailable {
            reason: format!("{reason} (another process held the database past the busy timeout)"),
        },
        Some(ErrorCode::NotADatabase) => Error::Storage {
            reason: format!("{reason} (not a Coordinate database)"),
        },
        _ => Error::Storage { reason },
    }
}

fn db_error(path: &Path, e: DbError) -> Error {
    match e {
        DbError::Api(e) => e,
        DbError::Sql(SqlError::Sqlite(e)) => sql_error(path, &e),
        DbError::Sql(e) => storage(path, &e.to_string()),
        DbError::Corrupt(why) => Error::Storage {
            reason: format!("{}: corrupt database: {why}", path.display()),
        },
    }
}

fn storage(path: &Path, why: &str) -> Error {
    Error::Storage {
        reason: format!("{}: {why}", path.display()),
    }
}

/// SQLite's busy handler: waits up to `timeout` for another process's
/// write transaction.
///
/// SQLite's own `busy_timeout` sleeps 1, 2, 5, 10... ms between tries, far
/// longer than a Coordinate transaction holds the lock (tens of µs), so
/// under contention processes slept while the lock was free. This one tries
/// again every 50 µs for the first 10 ms, then every ms.
fn lock_waiter(timeout: Duration) -> impl FnMut(i32) -> bool + Send + 'static {
    let mut start = Instant::now();
    move |tries| {
        if tries == 0 {
            start = Instant::now();
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return false;
        }
        let pause = if waited < Duration::from_millis(10) {
            Duration::from_micros(50)
        } else {
            Duration::from_millis(1)
        };
        std::thread::sleep(pause.min(timeout - waited));
        true
    }
}

/// A Coordinate store in one SQLite file.
pub struct SqliteBackend {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
    rng: Mutex<StdRng>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .field("clock", &self.clock)
            .finish()
    }
}

/// The facts read off a file before anything is written to it.
struct Identity {
    application_id: i32,
    user_version: i32,
    objects: i64,
}

fn identity(conn: &Connection) -> rusqlite::Result<Identity> {
    let application_id = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let user_version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let objects = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok(Identity {
        application_id,
        user_version,
        objects,
    })
}

/// Refuses a file that is not a Coordinate database or is newer than this
/// build; `Ok(true)` when the schema must be created or migrated.
fn check_identity(path: &Path, id: &Identity) -> Result<bool> {
    let fresh = id.application_id == 0 && id.user_version == 0 && id.objects == 0;
    if fresh {
        return Ok(true);
    }
    if id.application_id != APPLICATION_ID {
        return Err(storage(
            path,
            "not a Coordinate database (an SQLite file of another application)",
        ));
    }
    if id.user_version > SCHEMA_VERSION {
        return Err(storage(
            path,
            &format!(
                "the schema version {} is newer than this package's {SCHEMA_VERSION}; upgrade coordinate",
                id.user_version
            ),
        ));
    }
    Ok(id.user_version < SCHEMA_VERSION)
}

/// A database file shorter than its own header says, with no WAL that could
/// hold the missing pages, is truncated. (SQLite would notice only when a
/// query reaches a missing page; this check answers at open.)
fn check_not_truncated(path: &Path) -> Result<()> {
    let Ok(mut file) = File::open(path) else {
        return Ok(()); // absent: SQLite creates it (or reports why it cannot)
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(());
    }
    let mut header = [0u8; 100];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(storage(path, &format!("cannot read the file: {e}"))),
        }
    }
    const MAGIC: &[u8] = b"SQLite format 3\0";
    if read < header.len() {
        if header[..read.min(MAGIC.len())] == MAGIC[..read.min(MAGIC.len())] {
            return Err(storage(
                path,
                "truncated database (shorter than its header)",
            ));
        }
        return Ok(()); // SQLite reports a non-database itself
    }
    if &header[..16] != MAGIC {
        return Ok(());
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(()); // the WAL may hold pages not yet in the main file
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let counter = &header[24..28];
    let valid_for = &header[92..96];
    if counter == valid_for && pages > 0 && len < pages.saturating_mul(page_size) {
        return Err(storage(
            path,
            &format!(
                "truncated database ({len} bytes, its header says {} bytes)",
                pages * page_size
            ),
        ));
    }
    Ok(())
}

impl SqliteBackend {
    /// Opens (creating if absent) the store a `sqlite:` URL or plain path names.
    pub fn open(url: &str, options: &ConnectOptions) -> Result<SqliteBackend> {
        let parsed = SqliteUrl::parse(url)?;
        SqliteBackend::open_parsed(&parsed, options)
    }

    /// Opens the store at a parsed URL.
    pub fn open_parsed(url: &SqliteUrl, options: &ConnectOptions) -> Result<SqliteBackend> {
        let path = url.path.clone();
        let p = path.as_path();
        check_not_truncated(p)?;
        let flags = if url.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(p, flags).map_err(|e| sql_error(p, &e))?;
        let timeout = Duration::from_millis(dialect::busy_timeout_ms(options.timeout));
        // Before the first read: another process may be writing right now.
        conn.busy_handler(Some(lock_waiter(timeout)))
            .map_err(|e| sql_error(p, &e))?;
        conn.set_prepared_statement_cache_capacity(128);
        // Plans that do not depend on bound values: without this, SQLite
        // (built with STAT4) re-prepares a cached statement whenever a bound
        // value changes, which was most of the cost of a call.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| sql_error(p, &e))?;
        // Look before writing anything: a foreign or newer file stays untouched.
        let id = identity(&conn).map_err(|e| sql_error(p, &e))?;
        let needs_schema = check_identity(p, &id)?;
        if url.read_only || conn.is_readonly("main").unwrap_or(true) {
            return Err(storage(
                p,
                "the database is read-only (every call writes: the lease sweep, the counts)",
            ));
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| sql_error(p, &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(storage(
                p,
                &format!("cannot use the WAL journal (got {mode})"),
            ));
        }
        let sync = match url.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        // A 64 MiB page cache and memory-mapped reads: at a million units
        // the indexes the hot calls walk stay in memory.
        conn.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA foreign_keys=OFF; \
             PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ))
        .map_err(|e| sql_error(p, &e))?;
        if needs_schema {
            migrate(&conn, p)?;
        }
        let rng = match options.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        Ok(SqliteBackend {
            path,
            conn: Mutex::new(Some(conn)),
            rng: Mutex::new(rng),
            clock: options
                .clock
                .clone()
                .unwrap_or_else(|| Arc::new(SystemClock)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, ops: Vec<Op>, savepoints: bool) -> Result<Vec<Result<Reply>>> {
        let guard = self.lock();
        let conn = guard.as_ref().ok_or(Error::Gone)?;
        let p = self.path.as_path();
        let sql = |e: rusqlite::Error| sql_error(p, &e);
        conn.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
            .map_err(sql)?;
        let mut tx = model::Tx::new(conn, &self.rng);
        if let Err(e) = tx.prefetch(&ops) {
            rollback(conn);
            return Err(db_error(p, e));
        }
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            if savepoints {
                if let Err(e) = conn.execute_batch("SAVEPOINT op") {
                    rollback(conn);
                    return Err(sql(e));
                }
            }
            match tx.op(self.clock.now(), op) {
                Ok(outcome) => {
                    if savepoints {
                        if let Err(e) = conn.execute_batch("RELEASE op") {
                            rollback(conn);
                            return Err(sql(e));
                        }
                    }
                    results.push(outcome);
                }
                Err(e) => {
                    let err = db_error(p, e);
                    if !savepoints || conn.is_autocommit() {
                        // A lone operation, or SQLite already ended the
                        // transaction (disk full, I/O error): nothing commits.
                        rollback(conn);
                        return Err(err);
                    }
                    if conn.execute_batch("ROLLBACK TO op; RELEASE op").is_err() {
                        rollback(conn);
                        return Err(err);
                    }
                    results.push(Err(err));
                }
            }
        }
        if let Err(e) = tx.flush() {
            rollback(conn);
            return Err(db_error(p, e));
        }
        if let Err(e) = conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
        {
            rollback(conn);
            return Err(sql(e));
        }
        Ok(results)
    }
}

/// Ends a failed transaction; a second failure changes nothing the caller
/// can act on (the first error is what it is told).
fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Creates or migrates the schema in one transaction, checking the file's
/// identity again under the write lock (another process may have created
/// the schema since the first look).
fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let sql = |e: rusqlite::Error| sql_error(path, &e);
    conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
    let result = (|| {
        let id = identity(conn).map_err(sql)?;
        if !check_identity(path, &id)? {
            return Ok(());
        }
        let mut version = id.user_version;
        while version < SCHEMA_VERSION {
            let step = dialect::migration(version).ok_or_else(|| {
                storage(path, &format!("no migration from schema version {version}"))
            })?;
            conn.execute_batch(step).map_err(sql)?;
            version += 1;
        }
        conn.execute_batch(&format!(
            "PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={SCHEMA_VERSION};"
        ))
        .map_err(sql)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(|e| {
            rollback(conn);
            sql(e)
        }),
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

impl Backend for SqliteBackend {
    // call, batch, now and reseed, around `self.run`: see lib.rs.
    backend_calls!();

    fn close(&self) -> Result<()> {
        let conn = self.lock().take();
        if let Some(conn) = conn {
            conn.close().map_err(|(_, e)| sql_error(&self.path, &e))?;
        }
        Ok(())
    }
}
