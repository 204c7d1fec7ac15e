//! What the PostgreSQL tests share: the server's URL and a fresh store on it.
//!
//! The server is `$COORDINATE_TEST_POSTGRES` (`make test-postgres` starts a
//! throwaway one with `scripts/postgres.sh` and sets it). Without it the
//! PostgreSQL tests say loudly that they are skipped and pass, unless
//! `$COORDINATE_REQUIRE_POSTGRES` is set (as `make test` does), when they fail.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

/// The server's URL, or `None` (after a loud message) when none is given.
pub fn server() -> Option<String> {
    match std::env::var("COORDINATE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("COORDINATE_REQUIRE_POSTGRES").is_none(),
                "COORDINATE_REQUIRE_POSTGRES is set but COORDINATE_TEST_POSTGRES is not"
            );
            eprintln!(
                "\n*** SKIPPED: the PostgreSQL tests need a server: set \
                 COORDINATE_TEST_POSTGRES=postgresql://user@host:port/db, or run \
                 `make test-postgres` (which starts a throwaway one) ***\n"
            );
            None
        }
    }
}

/// `base` with `schema=NAME` for a schema no other test or run uses.
pub fn fresh(base: &str, label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let sep = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{sep}schema=t_{label}_{}_{n}_{nanos}",
        std::process::id()
    )
}
