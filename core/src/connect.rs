//! Choosing a store by URL: `Coordinate::connect(url, options)`.
//!
//! The core knows only `memory:`. Crates that provide other stores register
//! their URL schemes here (`coordinate_sql::install()` registers `sqlite:`,
//! `coordinate_server::install()` registers `http:`; PostgreSQL is planned), so
//! the core depends on no store and every host connects the same way.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::backend::Backend;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::memory::MemoryBackend;

/// How to open a store, besides its URL.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// The clock every call reads (`None`: the system clock). For `http:` a
    /// mock clock's time rides on each request, for servers in test mode.
    pub clock: Option<Arc<dyn Clock>>,
    /// Seeds this process's scheduler draws (`None`: from the OS).
    pub seed: Option<u64>,
    /// The bearer token for a server that wants one.
    pub token: Option<String>,
    /// How long one call may wait on the store or server.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("clock", &self.clock)
            .field("seed", &self.seed)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Opens the store a URL names.
pub type Opener = fn(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>>;

static SCHEMES: RwLock<Vec<(&'static str, Opener)>> = RwLock::new(Vec::new());

/// Makes `connect` open URLs of `scheme` (without the colon) with `opener`.
/// Registering a scheme again replaces its opener.
pub fn register_scheme(scheme: &'static str, opener: Opener) {
    let mut schemes = SCHEMES.write().unwrap_or_else(PoisonError::into_inner);
    schemes.retain(|(s, _)| *s != scheme);
    schemes.push((scheme, opener));
}

/// The scheme of a store URL: the text before the first `:` when it looks
/// like a scheme (letters, digits, `+`, `-`, `.`; two characters at least, so
/// a Windows drive letter is a path), or `sqlite` for a plain file path.
pub fn scheme_of(url: &str) -> &str {
    match url.split_once(':') {
        Some((scheme, _))
            if scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme
        }
        _ => "sqlite",
    }
}

pub(crate) fn open(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
    let scheme = scheme_of(url).to_ascii_lowercase();
    let scheme = match scheme.as_str() {
        "postgres" => "postgresql",
        "https" => "http",
        other => other,
    };
    if scheme == "memory" {
        return MemoryBackend::open(url, options);
    }
    let opener = SCHEMES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(s, _)| *s == scheme)
        .map(|(_, o)| *o);
    match opener {
        Some(opener) => opener(url, options),
        None => Err(Error::BadUrl {
            url: format!("{url} (no store for the scheme {scheme:?} is installed in this build)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme_of("memory:"), "memory");
        assert_eq!(scheme_of("sqlite:///tmp/x.db"), "sqlite");
        assert_eq!(scheme_of("/tmp/x.db"), "sqlite");
        assert_eq!(scheme_of("state.db"), "sqlite");
        assert_eq!(scheme_of("C:\\x.db"), "sqlite");
        assert_eq!(scheme_of("postgresql://u@h/db"), "postgresql");
        assert_eq!(scheme_of("http://127.0.0.1:5980/"), "http");
    }
}
