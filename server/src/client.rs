//! The HTTP client backend: `Coordinate::connect("http://host:5980/", options)`
//! after [`install`].
//!
//! Each [`Backend::call`] is one `POST /v1/call`, each [`Backend::batch`] one
//! `POST /v1/batch`, over a pool of keep-alive connections. The transport is
//! the crate's own small HTTP/1.1 client (`http1.rs`): blocking like the
//! [`Backend`] trait, no async runtime to carry into every process that
//! embeds the client, and, unlike a general client (this crate used `ureq`
//! first), one system call to send a request and one or two to read its
//! answer, which is most of what a round trip on loopback costs the client.
//!
//! - Several daemons: `http://host1:port1,host2:port2/` names daemons of
//!   one shared store (PostgreSQL); calls go to one of them until it fails
//!   in transport, then to the next.
//! - A transport failure (no connection, reset, timeout) is
//!   [`Error::Unavailable`]. A request that was never sent (no connection
//!   could be made) goes to the next daemon at once. A request that may
//!   have reached its daemon is repeated (on the next daemon, then on all
//!   of them again after 50 and 200 ms) only for operations that
//!   [`Op::is_idempotent`] says may run twice; never for `finish`,
//!   `request_attempts` and the other non-idempotent calls, whose failure
//!   the caller sees (a batch is repeated only when all its operations are
//!   idempotent); their next call goes to the next daemon.
//! - `options.clock`: a clock given here is sent as the mock time of every
//!   request (`X-Coordinate-Mock-Time`), for a daemon in test mode; a daemon
//!   not in test mode refuses such requests. `now()` reads this clock (the
//!   system clock when none is given).
//! - `options.token`: sent as `Authorization: Bearer <token>`.
//! - `options.timeout`: the limit of one round trip (connect, send, answer).
//! - `?test_store=NAME` in the URL: every request goes to the daemon's
//!   isolated test store `NAME` (test mode only), created on first use and
//!   seeded with `options.seed`; `reseed` reseeds it and `close` drops it.
//!   Without a test store, `reseed` does nothing: the daemon draws with its
//!   own generator.
//!
//! Only `http:` is supported: an `https:` URL is [`Error::BadUrl`] (put a TLS
//! terminating proxy in front of the daemon).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::http1::Pool;

use chrono::{DateTime, SecondsFormat, Utc};
use coordinate::backend::{Op, Reply};
use coordinate::{Backend, Clock, ConnectOptions, Error, Result};

use crate::wire::{
    self, Problem, MEDIA_TYPE, MOCK_TIME_HEADER, TEST_SEED_HEADER, TEST_STORE_HEADER,
};

/// Registers the `http` scheme (and refuses `https`) for `Coordinate::connect`.
pub fn install() {
    coordinate::register_scheme("http", open);
}

/// Opens a client backend for `url` (`http://host:port/[prefix/][?test_store=NAME]`).
pub fn open(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
    Ok(Arc::new(HttpBackend::new(url, options)?))
}

/// The largest answer body the client reads.
const MAX_ANSWER_BYTES: usize = 1 << 30;

/// Most idle connections kept for reuse.
const MAX_IDLE: usize = 64;

/// Pauses before the retries of an idempotent call.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(50), Duration::from_millis(200)];

/// One daemon of a client: its connections and base URL.
struct Target {
    pool: Pool,
    base: String,
}

/// A [`Backend`] that sends each operation to a `coordinated` daemon.
pub struct HttpBackend {
    /// The daemons, in the URL's order (one, unless it lists several).
    targets: Vec<Target>,
    /// The daemon calls go to now (an index into `targets`).
    current: AtomicUsize,
    /// The URL path of the daemon's root (`/` or `/prefix/`).
    path: String,
    clock: Option<Arc<dyn Clock>>,
    authorization: Option<String>,
    test_store: Option<String>,
    seed: Option<u64>,
    closed: AtomicBool,
}

impl std::fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBackend")
            .field("base", &self.base_url())
            .field("clock", &self.clock)
            .field("test_store", &self.test_store)
            .finish_non_exhaustive()
    }
}

fn bad_url(url: &str, why: &str) -> Error {
    Error::BadUrl {
        url: format!("{url} ({why})"),
    }
}

impl HttpBackend {
    /// A client for the daemon at `url`; no request is sent yet.
    pub fn new(url: &str, options: &ConnectOptions) -> Result<HttpBackend> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https:") {
            return Err(bad_url(
                url,
                "https is not supported by this client; use http:// or a TLS proxy",
            ));
        }
        let rest = lower
            .strip_prefix("http://")
            .map(|_| &url["http://".len()..])
            .ok_or_else(|| bad_url(url, "expected http://host:port/"))?;
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, "/"),
        };
        if authority.split(',').any(str::is_empty) || authority.contains('@') {
            return Err(bad_url(
                url,
                "expected http://host:port/ (or host1:port1,host2:port2) without user info",
            ));
        }
        let mut test_store = None;
        if let Some(query) = query {
            for (k, v) in form_urlencoded::parse(query.as_bytes()) {
                match &*k {
                    "test_store" if !v.is_empty() => test_store = Some(v.into_owned()),
                    _ => {
                        return Err(bad_url(
                            url,
                            "the only query parameter known is test_store=NAME",
                        ))
                    }
                }
            }
        }
        let path = if path.ends_with('/') {
            path.to_owned()
        } else {
            format!("{path}/")
        };
        if authority
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
            || path
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad_url(url, "spaces or control characters"));
        }
        let targets = authority
            .split(',')
            .map(|a| Target {
                pool: Pool::new(a, options.timeout, MAX_IDLE, MAX_ANSWER_BYTES),
                base: format!("http://{a}{path}"),
            })
            .collect();
        Ok(HttpBackend {
            targets,
            current: AtomicUsize::new(0),
            path,
            clock: options.clock.clone(),
            authorization: options.token.as_ref().map(|t| format!("Bearer {t}")),
            test_store,
            seed: options.seed,
            closed: AtomicBool::new(false),
        })
    }

    /// The base URL (`http://host:port/`) of the daemon calls go to now.
    pub fn base_url(&self) -> &str {
        &self.target(0).base
    }

    /// The daemon `step` places after the current one.
    fn target(&self, step: usize) -> &Target {
        let at = self.current.load(Ordering::Relaxed) + step;
        &self.targets[at % self.targets.len()]
    }

    /// Makes the daemon `step` places after the current one current.
    fn move_on(&self, step: usize) {
        let n = self.targets.len();
        let at = (self.current.load(Ordering::Relaxed) + step) % n;
        self.current.store(at, Ordering::Relaxed);
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Gone)
        } else {
            Ok(())
        }
    }

    /// One round trip: `method` on `path` with a MessagePack body; the
    /// answer's MessagePack body decoded as `T`. `retry`: whether a
    /// request that may have reached its daemon may be sent again.
    fn round_trip<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        retry: bool,
    ) -> Result<T> {
        let n = self.targets.len();
        // Each round tries every daemon once, from the current one.
        let mut pauses = RETRY_PAUSES.iter();
        loop {
            let mut last = None;
            for step in 0..n {
                let target = self.target(step);
                match target.pool.send(&self.head(target, method, path), body) {
                    Ok(answer) => {
                        self.move_on(step);
                        return self.decode(target, answer.status, &answer.body);
                    }
                    Err(failure) => {
                        let may_repeat = retry || !failure.sent;
                        last = Some((target, failure));
                        if !may_repeat {
                            // This call's failure is the caller's; the next
                            // call goes to the next daemon.
                            self.move_on(step + 1);
                            break;
                        }
                    }
                }
            }
            let Some((target, failure)) = last else {
                return Err(Error::Gone);
            };
            let repeatable = retry || !failure.sent;
            match pauses.next() {
                Some(pause) if repeatable => std::thread::sleep(*pause),
                _ => {
                    let note = if repeatable {
                        ""
                    } else {
                        " (not retried: the operation may or may not have run)"
                    };
                    return Err(Error::Unavailable {
                        reason: format!("{method} {}{path}: {}{note}", target.base, failure.reason),
                    });
                }
            }
        }
    }

    /// The request line and headers (without the body's length).
    fn head(&self, target: &Target, method: &str, path: &str) -> Vec<u8> {
        let mut head = String::with_capacity(256);
        let _ = write!(
            head,
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: coordinate-client/{}\r\n\
             Accept: {MEDIA_TYPE}\r\nContent-Type: {MEDIA_TYPE}\r\n",
            self.path,
            target.pool.authority(),
            env!("CARGO_PKG_VERSION"),
        );
        if let Some(auth) = &self.authorization {
            let _ = write!(head, "Authorization: {auth}\r\n");
        }
        if let Some(clock) = &self.clock {
            let _ = write!(
                head,
                "{MOCK_TIME_HEADER}: {}\r\n",
                mock_time_text(clock.now())
            );
        }
        if let Some(store) = &self.test_store {
            let _ = write!(head, "{TEST_STORE_HEADER}: {store}\r\n");
            if let Some(seed) = self.seed {
                let _ = write!(head, "{TEST_SEED_HEADER}: {seed}\r\n");
            }
        }
        head.into_bytes()
    }

    /// The daemon's answer: a 200 body decoded as `T`, or the error of a
    /// refusal.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        target: &Target,
        status: u16,
        bytes: &[u8],
    ) -> Result<T> {
        if status == 200 {
            return wire::decode::<T>(bytes, 1 << 12).map_err(|e| Error::Storage {
                reason: format!(
                    "the daemon at {} sent an undecodable answer: {e}",
                    target.base
                ),
            });
        }
        let problem = wire::decode::<Problem>(bytes, 4).ok();
        Err(refusal_error(status, problem, &target.base))
    }
}

/// The error for a request the daemon refused.
fn refusal_error(status: u16, problem: Option<Problem>, base: &str) -> Error {
    match problem {
        Some(p) if p.code == "Unauthorized" => Error::Unauthorized,
        Some(p) if p.code == "Unavailable" => Error::Unavailable {
            reason: format!("the daemon at {base}: {}", p.message),
        },
        Some(p) => Error::Storage {
            reason: format!(
                "the daemon at {base} refused the request ({status} {}): {}",
                p.code, p.message
            ),
        },
        None if status == 401 => Error::Unauthorized,
        None => Error::Storage {
            reason: format!(
                "the daemon at {base} answered HTTP {status}; is it a coordinated speaking protocol v1?"
            ),
        },
    }
}

/// The mock-time header value: RFC 3339, UTC, nanoseconds.
pub(crate) fn mock_time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

impl Backend for HttpBackend {
    fn call(&self, op: Op) -> Result<Reply> {
        self.check_open()?;
        let retry = op.is_idempotent();
        let body = wire::encode(&op).map_err(|e| Error::Storage {
            reason: format!("cannot encode the operation: {e}"),
        })?;
        self.round_trip::<Result<Reply>>("POST", "v1/call", &body, retry)?
    }

    fn batch(&self, ops: Vec<Op>) -> Result<Vec<Result<Reply>>> {
        self.check_open()?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let retry = ops.iter().all(Op::is_idempotent);
        let body = wire::encode(&ops).map_err(|e| Error::Storage {
            reason: format!("cannot encode the operations: {e}"),
        })?;
        self.round_trip::<Result<Vec<Result<Reply>>>>("POST", "v1/batch", &body, retry)?
    }

    fn now(&self) -> DateTime<Utc> {
        match &self.clock {
            Some(clock) => clock.now(),
            None => Utc::now(),
        }
    }

    fn reseed(&self, seed: u64) {
        if self.test_store.is_none() || self.check_open().is_err() {
            return;
        }
        let body = match wire::encode(&seed) {
            Ok(b) => b,
            Err(_) => return,
        };
        if let Err(e) = self
            .round_trip::<Result<Reply>>("POST", "v1/reseed", &body, true)
            .and_then(|r| r)
        {
            tracing::warn!(error = %e, "the daemon did not take the new seed");
        }
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        if self.test_store.is_some() {
            self.round_trip::<Result<Reply>>("DELETE", "v1/test-store", &[], true)??;
        }
        for target in &self.targets {
            target.pool.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let o = ConnectOptions::default();
        assert_eq!(
            HttpBackend::new("http://127.0.0.1:5980", &o)
                .unwrap()
                .base_url(),
            "http://127.0.0.1:5980/"
        );
        assert_eq!(
            HttpBackend::new("HTTP://h:1/pre/fix?test_store=a-1", &o)
                .unwrap()
                .test_store
                .as_deref(),
            Some("a-1")
        );
        assert_eq!(
            HttpBackend::new("http://h:1/pre/fix", &o)
                .unwrap()
                .base_url(),
            "http://h:1/pre/fix/"
        );
        for bad in [
            "https://h/",
            "http://",
            "ftp://h/",
            "http://u@h/",
            "http://h/?x=1",
        ] {
            assert!(
                matches!(HttpBackend::new(bad, &o), Err(Error::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn refusals_map_to_typed_errors() {
        let p = |c: &str| Some(Problem::new(c, "m"));
        assert_eq!(
            refusal_error(401, p("Unauthorized"), "b"),
            Error::Unauthorized
        );
        assert_eq!(refusal_error(401, None, "b"), Error::Unauthorized);
        assert!(matches!(
            refusal_error(503, p("Unavailable"), "b"),
            Error::Unavailable { .. }
        ));
        assert!(matches!(
            refusal_error(400, p("BadRequest"), "b"),
            Error::Storage { .. }
        ));
        assert!(matches!(
            refusal_error(502, None, "b"),
            Error::Storage { .. }
        ));
    }

    #[test]
    fn transport_failure_is_unavailable_and_closed_is_gone() {
        // A port that was free a moment ago: nothing listens there now.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let b = HttpBackend::new(&format!("http://{addr}/"), &ConnectOptions::default()).unwrap();
        let e = b
            .call(Op::Finish {
                attempt: 1,
                data: None,
            })
            .unwrap_err();
        // Nothing was sent: the finish was tried again, and no note says
        // it may have run.
        match e {
            Error::Unavailable { reason } => {
                assert!(reason.contains("cannot connect"), "{reason}");
                assert!(!reason.contains("not retried"), "{reason}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        b.close().unwrap();
        assert_eq!(b.call(Op::Namespaces).unwrap_err(), Error::Gone);
    }
}
