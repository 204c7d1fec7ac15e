//! Coordinate's SQL stores: the whole model in SQL, behind the
//! [`coordinate::Backend`] seam.
//!
//! Today: SQLite, the embedded default store. One file holds the state; any
//! number of processes of one machine share it. Every call is one `BEGIN
//! IMMEDIATE` transaction (a [`Backend::batch`](coordinate::Backend::batch)
//! is one transaction with a savepoint per operation), so every call is
//! atomic across processes, and a returned call is committed (WAL journal;
//! `synchronous=NORMAL` survives any crash of the processes,
//! `?synchronous=full` survives power loss).
//!
//! ```no_run
//! coordinate_sql::install(); // Coordinate::connect now opens sqlite: URLs
//! let backend = coordinate_sql::SqliteBackend::open(
//!     "sqlite:///var/lib/coordinate/state.db",
//!     &Default::default(),
//! ).unwrap();
//! # drop(backend);
//! ```
//!
//! URLs: see [`SqliteUrl`]. Threads and `fork()`: see [`SqliteBackend`]'s
//! module notes (`store`): one connection per backend behind a mutex, and a
//! store must be opened again in a forked child.
//!
//! PostgreSQL: [`PgBackend`] (`postgresql://user@host:port/db`), the same
//! model on a shared server, for several daemons and worker machines; see
//! its module notes (`pg`) for locks, retries and threads.
//!
//! Layout: `dialect` holds everything engine-specific (schemas, versions,
//! pragmas), `model` the operations in plain SQL, `db` the seam the model
//! calls (rusqlite and tokio-postgres behind it), `codec` how values sit in
//! columns, `store` (SQLite) and `pg` (PostgreSQL) the connections and
//! transactions.

/// The [`Backend`] methods both stores write the same way around their own
/// `run(&self, ops, savepoints) -> Result<Vec<Result<Reply>>>` (one
/// transaction; a savepoint per operation when `savepoints`) and their
/// `clock` and `rng` fields: `call` (one operation, no savepoint), `batch`
/// (nothing to do for no operations), `now` and `reseed`. Used inside
/// `impl Backend for ...` in `store` and `pg`.
macro_rules! backend_calls {
    () => {
        fn call(
            &self,
            op: ::coordinate::backend::Op,
        ) -> ::coordinate::Result<::coordinate::backend::Reply> {
            let mut results = self.run(vec![op], false)?;
            results.pop().unwrap_or(Err(::coordinate::Error::Storage {
                reason: "an operation gave no result".into(),
            }))
        }

        fn batch(
            &self,
            ops: Vec<::coordinate::backend::Op>,
        ) -> ::coordinate::Result<Vec<::coordinate::Result<::coordinate::backend::Reply>>> {
            if ops.is_empty() {
                return Ok(Vec::new());
            }
            self.run(ops, true)
        }

        fn now(&self) -> ::chrono::DateTime<::chrono::Utc> {
            self.clock.now()
        }

        fn reseed(&self, seed: u64) {
            *self
                .rng
                .lock()
                .unwrap_or_else(::std::sync::PoisonError::into_inner) =
                <::rand::rngs::StdRng as ::rand::SeedableRng>::seed_from_u64(seed);
        }
    };
}

mod codec;
mod db;
mod dialect;
mod model;
mod pg;
mod pgconn;
mod store;
mod url;

use std::sync::Arc;

use coordinate::{Backend, ConnectOptions, Result};

pub use dialect::{APPLICATION_ID, SCHEMA_VERSION};
pub use pg::{PgBackend, PgUrl};
pub use store::SqliteBackend;
pub use url::{SqliteUrl, Synchronous};

/// Opens a `sqlite:` URL or a plain path: the opener `install` registers.
pub fn open(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(SqliteBackend::open(url, options)?))
}

/// Opens a `postgresql:` (or `postgres:`) URL: the opener `install` registers.
pub fn open_postgres(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(PgBackend::open(url, options)?))
}

/// Makes `Coordinate::connect` open `sqlite:` URLs and plain paths, and
/// `postgresql:` / `postgres:` URLs.
pub fn install() {
    coordinate::register_scheme("sqlite", open);
    coordinate::register_scheme("postgresql", open_postgres);
    coordinate::register_scheme("postgres", open_postgres);
}
