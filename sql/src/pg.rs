//! The PostgreSQL backend: the same model (`model.rs`) on a shared server,
//! so that any number of processes on any number of machines (workers,
//! `coordinated` daemons) share one store.
//!
//! # URLs
//! `postgresql://user:password@host:port/database?param=value` (or
//! `postgres://`), as libpq reads them: several `host:port` pairs separated
//! by commas are tried in order. Besides libpq's parameters that the
//! `postgres` crate knows (`connect_timeout`, `application_name`,
//! `options`, `keepalives`, `target_session_attrs`, ...), one is
//! Coordinate's: `schema=NAME` keeps the store's tables in that schema
//! (created if absent), so one database can hold several stores, and
//! `pool_size=N` (1-1000) caps the connections of one backend. No TLS:
//! `sslmode=require` is refused when the connection is made.
//!
//! # Connections and threads
//! A backend holds a small pool of connections: a call takes an idle one
//! (or opens one, up to `pool_size`, a URL parameter, 8 by default; or
//! waits for one), runs on it, and puts it back. A process that calls from
//! one thread at a time (a worker) opens one connection; the daemon, which
//! serves many clients through one backend per store, runs up to
//! `pool_size` calls at once. A connection (`pgconn.rs`) blocks the
//! calling thread on a runtime of its own, to pipeline statements: it must
//! be called from plain threads, never from a task of an async runtime;
//! `coordinated` calls stores from `spawn_blocking` threads, where that
//! holds. Opening, closing and dropping a backend inside a runtime (a
//! daemon opening a test store from a task) is moved to a plain thread
//! here.
//!
//! # Transactions, locks and retries
//! Every call is one `READ COMMITTED` transaction (a batch: one
//! transaction; run again with a savepoint per operation if one of them
//! meets a store error), committed
//! before the call returns (`synchronous_commit` as the
//! server has it: on by default). Statements whose answers are not read
//! go to the server with the next one that needs an answer; if one of
//! them fails, the whole call fails (and is retried as below).
//! The model reads every row it may change with `FOR UPDATE`, except
//! where waiting would serialise workers:
//! - claims take the best available unit no other transaction holds
//!   (`FOR UPDATE SKIP LOCKED`), so workers of one spec claim in parallel
//!   and never get the same unit; the expiry sweep skips attempts another
//!   transaction holds (being finished, or swept by another request);
//! - counts: each connection adds its count changes to its own row of the
//!   spec (one of `db::COUNT_SHARDS`, chosen when it connects); a spec's
//!   counts are the sums, so updates of one spec's counts rarely wait and
//!   commits of several workers can share a WAL flush;
//! - a spec being used is kept from deletion by a shared advisory lock on
//!   its namespace (`Db::keep_namespaces`), which users do not wait on and
//!   deleting a spec takes exclusively (so it waits for them);
//! - a spec with `max_running` or continuous units has one claimer at a
//!   time (`FOR NO KEY UPDATE` on its row), who reads its counts and meta
//!   again once it holds it, so the limit is never exceeded.
//!
//! There is no global expiry scan: the sweep of a spec walks its own
//! expiring-attempts index.
//!
//! Deadlocks (40P01: two transactions locking units or attempts in
//! opposite orders, e.g. a sweep expiring an attempt whose unit another
//! call is changing),
//! serialization failures (40001) and unique violations (23505: two
//! processes creating the same spec at once) roll the call back; it is
//! retried, with a short random pause, up to 30 times, then gives
//! `Unavailable`. A broken connection or an unreachable server gives
//! `Unavailable` at once (a call whose commit was in flight may or may not
//! have committed, so it is not repeated blindly); the next call connects
//! again.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use coordinate::backend::{Op, Reply};
use coordinate::{Backend, Clock, ConnectOptions, Error, Result, SystemClock};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::db::{Db, SqlError};
use crate::dialect::{self, SCHEMA_VERSION};
use crate::model;
use crate::pgconn::PgConn;
use crate::store::DbError;

/// Runs `f` on a plain thread when called inside an async runtime (where
/// a connection's own runtime may not be started or dropped: a
/// daemon opening or dropping a store from a task), else right here.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// How many times a call that hit a deadlock or serialization failure runs.
const TRIES: u32 = 30;

/// A parsed PostgreSQL store URL.
#[derive(Clone, Debug)]
pub struct PgUrl {
    /// The connection settings, for `tokio-postgres`.
    pub config: tokio_postgres::Config,
    /// The schema holding the store's tables (`None`: the search path's
    /// first schema, normally `public`).
    pub schema: Option<String>,
    /// The URL without its password, for messages.
    pub display: String,
    /// How many connections one backend may hold (`pool_size`).
    pub pool_size: usize,
}

/// Connections a backend holds at most, unless the URL says `pool_size`.
const POOL_SIZE: usize = 8;

fn bad(url: &str, why: &str) -> Error {
    Error::BadUrl {
        url: format!("{url} ({why})"),
    }
}

/// The URL with `:password@` shown as `:***@`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 63
}

impl PgUrl {
    /// Parses a `postgresql:` or `postgres:` URL.
    pub fn parse(url: &str) -> std::result::Result<PgUrl, Error> {
        let scheme = coordinate::scheme_of(url).to_ascii_lowercase();
        if scheme != "postgresql" && scheme != "postgres" {
            return Err(bad(url, "not a postgresql: URL"));
        }
        let display = redact(url);
        if !url[scheme.len()..].starts_with("://") {
            return Err(bad(&display, "write postgresql://user@host:port/database"));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut schema = None;
        let mut pool_size = POOL_SIZE;
        let mut rest = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("schema", name)) => {
                    if !valid_schema(name) {
                        return Err(bad(
                            &display,
                            "schema must be lowercase letters, digits, _ and - (at most 63, not starting with a digit or -)",
                        ));
                    }
                    schema = Some(name.to_owned());
                }
                Some(("pool_size", n)) => {
                    pool_size = n
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            bad(&display, "pool_size must be a number from 1 to 1000")
                        })?;
                }
                _ => rest.push(pair),
            }
        }
        let libpq = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let config =
            tokio_postgres::Config::from_str(&libpq).map_err(|e| bad(&display, &e.to_string()))?;
        if config.get_hosts().is_empty() {
            return Err(bad(&display, "no host"));
        }
        Ok(PgUrl {
            config,
            schema,
            display,
            pool_size,
        })
    }
}

/// Whether the server rolled the transaction back for a reason that another
/// try may not meet: serialization failure, deadlock, a unique key another
/// transaction took first.
fn retryable(e: &DbError) -> bool {
    let DbError::Sql(SqlError::Pg(e)) = e else {
        return false;
    };
    matches!(
        e.code().map(|c| c.code()),
        Some("40001" | "40P01" | "23505")
    )
}

/// The Coordinate error for a PostgreSQL failure.
fn pg_error(url: &str, e: &tokio_postgres::Error) -> Error {
    let code = e.code().map(|c| c.code().to_owned());
    let reason = match e.as_db_error() {
        Some(db) => format!("{url}: {} ({})", db.message(), db.code().code()),
        None => format!("{url}: {e}"),
    };
    let unavailable = e.is_closed()
        || e.as_db_error().is_none()
        || code.as_deref().is_some_and(|c| {
            // connection exceptions, server shutting down or starting,
            // too many connections, lock timeout, query canceled.
            c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
                || c == "55P03"
                || c == "57014"
        });
    if unavailable {
        Error::Unavailable { reason }
    } else {
        Error::Storage { reason }
    }
}

fn db_error(url: &str, e: DbError) -> Error {
    match e {
        DbError::Api(e) => e,
        DbError::Sql(SqlError::Pg(e)) => pg_error(url, &e),
        DbError::Sql(e) => Error::Storage {
            reason: format!("{url}: {e}"),
        },
        DbError::Corrupt(why) => Error::Storage {
            reason: format!("{url}: corrupt database: {why}"),
        },
    }
}

fn sql_err(url: &str, e: SqlError) -> Error {
    db_error(url, DbError::Sql(e))
}

/// Why one try of a call did not return.
enum Failed {
    /// Rolled back; another try may succeed.
    Retry(Error),
    /// The call's answer.
    Fail(Error),
    /// Rolled back: an operation of a batch run without savepoints met a
    /// store error (with them, it alone would have been undone).
    Isolate(Error),
}

/// The connections of a backend.
#[derive(Default)]
struct Pool {
    /// Connections no call is using.
    idle: Vec<PgConn>,
    /// Connections open (idle or in use) or being opened.
    open: usize,
}

/// A Coordinate store on a PostgreSQL server.
pub struct PgBackend {
    url: PgUrl,
    timeout: Duration,
    pool: Mutex<Pool>,
    /// Signalled when a connection goes back to the pool (or closes).
    returned: Condvar,
    closed: AtomicBool,
    rng: Mutex<StdRng>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("url", &self.url.display)
            .field("clock", &self.clock)
            .finish()
    }
}

impl PgBackend {
    /// Connects to the server a `postgresql:` URL names, creating or
    /// migrating the schema if needed.
    pub fn open(url: &str, options: &ConnectOptions) -> Result<PgBackend> {
        off_runtime(|| PgBackend::open_here(url, options))
    }

    fn open_here(url: &str, options: &ConnectOptions) -> Result<PgBackend> {
        let parsed = PgUrl::parse(url)?;
        let timeout = Duration::from_millis(dialect::busy_timeout_ms(options.timeout));
        let rng = match options.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        let backend = PgBackend {
            url: parsed,
            timeout,
            pool: Mutex::new(Pool::default()),
            returned: Condvar::new(),
            closed: AtomicBool::new(false),
            rng: Mutex::new(rng),
            clock: options
                .clock
                .clone()
                .unwrap_or_else(|| Arc::new(SystemClock)),
        };
        let conn = backend.connect()?;
        backend.migrate(&conn)?;
        let mut pool = backend.lock();
        pool.open = 1;
        pool.idle.push(conn);
        drop(pool);
        Ok(backend)
    }

    /// The URL, without its password.
    pub fn url(&self) -> &str {
        &self.url.display
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle connection, or a new one while fewer than `pool_size` are
    /// open, or the first one a call puts back.
    fn checkout(&self) -> Result<PgConn> {
        let mut pool = self.lock();
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(Error::Gone);
            }
            while let Some(conn) = pool.idle.pop() {
                if !conn.is_closed() {
                    return Ok(conn);
                }
                pool.open -= 1;
                off_runtime(move || drop(conn));
            }
            if pool.open < self.url.pool_size {
                pool.open += 1;
                drop(pool);
                return self.connect().inspect_err(|_| self.checkin(None));
            }
            pool = self
                .returned
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Puts a connection back (`None`: it was lost), closing it if the
    /// backend is closed or the connection broke.
    fn checkin(&self, conn: Option<PgConn>) {
        let mut pool = self.lock();
        match conn {
            Some(conn) if !conn.is_closed() && !self.closed.load(Ordering::Acquire) => {
                pool.idle.push(conn);
            }
            other => {
                pool.open -= 1;
                drop(pool);
                off_runtime(move || drop(other));
            }
        }
        self.returned.notify_one();
    }

    fn connect(&self) -> Result<PgConn> {
        let u = &self.url.display;
        let mut config = self.url.config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.timeout.min(Duration::from_secs(10)));
        }
        if config.get_application_name().is_none() {
            config.application_name("coordinate");
        }
        // Spread connections over the count rows (not from the store's
        // RNG: that one is the scheduler's, seeded by tests).
        let spread = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let conn =
            PgConn::connect(&config, i64::from(spread ^ std::process::id())).map_err(|e| {
                Error::Unavailable {
                    reason: format!("{u}: cannot connect: {e}"),
                }
            })?;
        // Every statement of the model reads through an index (§6.4); a
        // sequential scan is only ever the planner's guess from statistics
        // that lag behind tables that grow by thousands of rows a second
        // (a prepared statement's generic plan, made while `attempts` was
        // small, scanned all of it for each batch of finishes). So the
        // planner is told not to scan tables whole where an index serves.
        let mut setup = format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = 0; SET enable_seqscan = off;",
            self.timeout.as_millis()
        );
        if let Some(schema) = &self.url.schema {
            // `schema` is checked to be [a-z_][a-z0-9_-]*: safe to quote.
            setup.push_str(&format!(" SET search_path TO \"{schema}\";"));
        }
        conn.batch(&setup).map_err(|e| sql_err(u, e))?;
        Ok(conn)
    }

    /// Creates or migrates the schema in one transaction under the
    /// migration advisory lock (two processes starting at once: the second
    /// waits, then finds the schema current).
    fn migrate(&self, conn: &PgConn) -> Result<()> {
        let u = &self.url.display;
        let sql = |e: SqlError| sql_err(u, e);
        conn.batch("BEGIN").map_err(sql)?;
        let result = (|| {
            let db: &dyn Db = conn;
            db.exec(
                "SELECT pg_advisory_xact_lock(?1)",
                &[crate::db::Value::Int(dialect::PG_MIGRATION_LOCK)],
            )
            .map_err(sql)?;
            if let Some(schema) = &self.url.schema {
                conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .map_err(sql)?;
            }
            conn.batch(dialect::PG_VERSION_TABLE).map_err(sql)?;
            let rows = db
                .rows(
                    "SELECT COALESCE(MAX(version), 0) FROM coordinate_schema",
                    &[],
                )
                .map_err(sql)?;
            let found: i64 = rows
                .first()
                .map(|r| r.get(0))
                .transpose()
                .map_err(sql)?
                .unwrap_or(0);
            if found > i64::from(SCHEMA_VERSION) {
                return Err(Error::Storage {
                    reason: format!(
                        "{u}: the schema version {found} is newer than this package's \
                         {SCHEMA_VERSION}; upgrade coordinate"
                    ),
                });
            }
            let mut version = i32::try_from(found).unwrap_or(0);
            while version < SCHEMA_VERSION {
                let step = dialect::pg_migration(version).ok_or_else(|| Error::Storage {
                    reason: format!("{u}: no migration from schema version {version}"),
                })?;
                conn.batch(step).map_err(sql)?;
                version += 1;
                db.exec(
                    "INSERT INTO coordinate_schema (version) VALUES (?1)",
                    &[crate::db::Value::Int(i64::from(version))],
                )
                .map_err(sql)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => conn.batch("COMMIT").map_err(sql),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// One try: the whole call in one transaction.
    fn once(
        &self,
        conn: &PgConn,
        ops: &[Op],
        savepoints: bool,
    ) -> std::result::Result<Vec<Result<Reply>>, Failed> {
        let u = &self.url.display;
        let fail_db = |e: DbError| {
            rollback(conn);
            if retryable(&e) {
                Failed::Retry(db_error(u, e))
            } else {
                Failed::Fail(db_error(u, e))
            }
        };
        // The statements without parameters (begin, savepoints, commit)
        // and the writes whose answers the model does not read go to the
        // server with the next statement it needs an answer from.
        conn.discard();
        conn.send_ahead("BEGIN ISOLATION LEVEL READ COMMITTED");
        let mut tx = model::Tx::new(conn, &self.rng);
        tx.prefetch(ops).map_err(fail_db)?;
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            if savepoints {
                conn.send_ahead("SAVEPOINT op");
            }
            match tx.op(self.clock.now(), op.clone()) {
                Ok(outcome) => {
                    if savepoints {
                        conn.send_ahead("RELEASE op");
                    }
                    results.push(outcome);
                }
                Err(e) => {
                    // A write sent ahead may have been an earlier
                    // operation's: only the whole call can be undone.
                    if retryable(&e) || conn.is_closed() || conn.failed_ahead() {
                        return Err(fail_db(e));
                    }
                    if !savepoints {
                        rollback(conn);
                        return Err(Failed::Isolate(db_error(u, e)));
                    }
                    conn.send_ahead("ROLLBACK TO op; RELEASE op");
                    results.push(Err(db_error(u, e)));
                }
            }
        }
        // The counts, then the commit, with whatever is still queued: one
        // round trip.
        tx.flush().map_err(fail_db)?;
        conn.batch("COMMIT").map_err(|e| fail_db(DbError::Sql(e)))?;
        Ok(results)
    }

    fn run(&self, ops: Vec<Op>, savepoints: bool) -> Result<Vec<Result<Reply>>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Gone);
        }
        let mut conn = Some(self.checkout()?);
        let result = self.tries(&mut conn, &ops, savepoints);
        self.checkin(conn);
        result
    }

    /// The call on `conn` (opened again if it broke), retried while it
    /// meets deadlocks or serialization failures.
    ///
    /// A batch runs first without savepoints: its operations fail alone
    /// only on a store error (their own failures, like a finish of an
    /// attempt that expired, are answers and change nothing), which is
    /// rare; then the whole transaction is rolled back and the call runs
    /// again with a savepoint per operation, so that only the failing one
    /// is undone. Four statements less per pair of operations (a finish
    /// and the next request) in the common case.
    fn tries(
        &self,
        conn: &mut Option<PgConn>,
        ops: &[Op],
        savepoints: bool,
    ) -> Result<Vec<Result<Reply>>> {
        let mut last = None;
        let mut optimistic = savepoints && ops.len() > 1;
        let mut attempt = 0;
        while attempt < TRIES {
            if attempt > 0 {
                // 0.1 ms .. 6.4 ms, random, growing with the tries.
                let cap = 100u64 << attempt.min(6);
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos()));
                let pause = cap / 2 + jitter % (cap / 2 + 1);
                std::thread::sleep(Duration::from_micros(pause));
            }
            if conn.as_ref().is_none_or(PgConn::is_closed) {
                if let Some(broken) = conn.take() {
                    off_runtime(move || drop(broken));
                }
                *conn = Some(self.connect()?);
            }
            let Some(c) = conn.as_ref() else {
                return Err(Error::Gone);
            };
            match self.once(c, ops, savepoints && !optimistic) {
                Ok(results) => return Ok(results),
                Err(Failed::Retry(e)) => last = Some(e),
                Err(Failed::Isolate(_)) if optimistic => {
                    optimistic = false;
                    continue;
                }
                Err(Failed::Fail(e) | Failed::Isolate(e)) => return Err(e),
            }
            attempt += 1;
        }
        Err(Error::Unavailable {
            reason: format!(
                "{}: {TRIES} tries met deadlocks or serialization failures; the last: {}",
                self.url.display,
                last.map_or_else(String::new, |e| e.to_string())
            ),
        })
    }
}

/// Ends a failed transaction; a second failure changes nothing the caller
/// can act on.
fn rollback(conn: &PgConn) {
    conn.discard();
    if !conn.is_closed() {
        let _ = conn.batch("ROLLBACK");
    }
    conn.discard();
}

impl Backend for PgBackend {
    // call, batch, now and reseed, around `self.run`: see lib.rs.
    backend_calls!();

    fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        // Calls in flight close theirs when they put them back.
        let idle = {
            let mut pool = self.lock();
            let idle = std::mem::take(&mut pool.idle);
            pool.open -= idle.len();
            idle
        };
        self.returned.notify_all();
        off_runtime(move || drop(idle));
        Ok(())
    }
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        off_runtime(move || drop(idle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = PgUrl::parse("postgresql://me:secret@127.0.0.1:5433/db?schema=s_1").unwrap();
        assert_eq!(u.schema.as_deref(), Some("s_1"));
        assert_eq!(u.config.get_dbname(), Some("db"));
        assert_eq!(u.config.get_ports(), &[5433]);
        assert_eq!(
            u.display,
            "postgresql://me:***@127.0.0.1:5433/db?schema=s_1"
        );
        assert_eq!(u.pool_size, POOL_SIZE);
        let u = PgUrl::parse("postgres://me@h1:1,h2:2/db?connect_timeout=3&pool_size=2").unwrap();
        assert_eq!(u.schema, None);
        assert_eq!(u.pool_size, 2);
        assert_eq!(u.config.get_hosts().len(), 2);
        for url in [
            "postgresql:db",
            "postgresql://h/db?schema=Bad",
            "postgresql://h/db?schema=",
            "postgresql://h/db?nonsense=1",
            "postgresql://h/db?pool_size=0",
            "postgresql://h/db?pool_size=many",
            "sqlite:///x.db",
        ] {
            assert!(
                matches!(PgUrl::parse(url), Err(Error::BadUrl { .. })),
                "{url}"
            );
        }
    }
}
