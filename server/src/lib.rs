//! `coordinated`, the Coordinate HTTP daemon, and the HTTP client backend.
//!
//! The daemon serves one store (any URL `Coordinate::connect` opens:
//! `memory:`, `sqlite:...`) over two protocols on one port:
//!
//! - its own, versioned protocol ([`wire`]): every API call travels as the
//!   core's [`Op`](coordinate::backend::Op) value in MessagePack and is
//!   handed to the store's [`Backend`](coordinate::Backend) as it is, so the
//!   protocol is complete by construction and no call is written twice;
//! - Go coordinate's REST protocol (REST-PROTOCOL.md), one adapter that
//!   turns each route into operations on the same backend.
//!
//! The [`client`] module is the other end of the first protocol: a
//! `Backend` for `http://` URLs ([`install`] registers it).
//!
//! ```no_run
//! use coordinate_server::{Config, Daemon};
//! let daemon = Daemon::start(Config { store_url: "memory:".into(), ..Config::default() })
//!     .expect("daemon");
//! println!("serving on {}", daemon.url());
//! daemon.stop().expect("clean stop");
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod client;
#[cfg(feature = "daemon")]
mod daemon;
mod http1;
#[cfg(feature = "daemon")]
mod metrics;
#[cfg(feature = "daemon")]
mod rest;
#[cfg(feature = "daemon")]
mod store;
#[cfg(feature = "daemon")]
mod ui;
pub mod wire;

pub use client::{install, HttpBackend};
#[cfg(feature = "daemon")]
pub use daemon::{Config, Daemon, Prepared, StartError};
#[cfg(feature = "daemon")]
pub use store::StoreOpener;

/// Opens a store by URL through the core's scheme registry (`memory:` and
/// whatever schemes were installed), as the daemon's default opener.
#[cfg(feature = "daemon")]
pub fn open_store(
    url: &str,
    options: &coordinate::ConnectOptions,
) -> coordinate::Result<std::sync::Arc<dyn coordinate::Backend>> {
    coordinate::Coordinate::connect(url, options.clone()).map(|c| c.backend().clone())
}

/// Registers every store scheme this build knows besides the core's
/// `memory:`: `sqlite:` and the `http:` client, so `--store` takes any of them.
#[cfg(feature = "daemon")]
pub fn install_stores() {
    coordinate_sql::install();
    install();
}
