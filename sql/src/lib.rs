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
//! Layout: `dialect` holds everything engine-specific (schema, versions,
//! pragmas), `model` the operations in plain SQL, `codec` how values sit in
//! columns, `store` the connection and transactions. PostgreSQL will be a
//! second dialect of the same model.

mod codec;
mod dialect;
mod model;
mod store;
mod url;

use std::sync::Arc;

use coordinate::{Backend, ConnectOptions, Result};

pub use dialect::{APPLICATION_ID, SCHEMA_VERSION};
pub use store::SqliteBackend;
pub use url::{SqliteUrl, Synchronous};

/// Opens a `sqlite:` URL or a plain path: the opener `install` registers.
pub fn open(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(SqliteBackend::open(url, options)?))
}

/// Makes `Coordinate::connect` open `sqlite:` URLs and plain paths.
pub fn install() {
    coordinate::register_scheme("sqlite", open);
}
