//! The stores a daemon serves: its main store and, in test mode, isolated
//! test stores by name; the mock clock of test mode; whether a store's
//! calls go to the blocking pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use coordinate::{Backend, ConnectOptions, Error, MockClock, Result};

/// Opens the store a URL names (the same shape as [`coordinate::Opener`]).
pub type StoreOpener = fn(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>>;

/// One store and, in test mode, the mock clock it reads.
#[derive(Debug)]
pub(crate) struct Store {
    backend: Arc<dyn Backend>,
    /// Test mode: the clock the store reads, set from each request's mock
    /// time; `gate` keeps "set the clock, run the call" atomic.
    clock: Option<MockClock>,
    gate: Mutex<()>,
    /// [`Backend::blocking`], asked once.
    blocking: bool,
}

impl Store {
    /// Opens `url`; in test mode on a mock clock at the Unix epoch.
    pub(crate) fn open(
        opener: StoreOpener,
        url: &str,
        test_mode: bool,
        seed: Option<u64>,
    ) -> Result<Store> {
        let clock = test_mode.then(|| MockClock::new(DateTime::UNIX_EPOCH));
        let options = ConnectOptions {
            clock: clock
                .clone()
                .map(|c| Arc::new(c) as Arc<dyn coordinate::Clock>),
            seed,
            ..Default::default()
        };
        let backend = opener(url, &options)?;
        Ok(Store {
            blocking: backend.blocking(),
            backend,
            clock,
            gate: Mutex::new(()),
        })
    }

    /// Whether its calls may block ([`Backend::blocking`]): those run on
    /// the blocking pool, the others on the thread serving the connection.
    pub(crate) fn blocking(&self) -> bool {
        self.blocking
    }

    /// Runs `f` on the backend; in test mode, with the clock set to
    /// `mock_time` first (no mock time: the clock keeps its last time).
    pub(crate) fn run<T>(
        &self,
        mock_time: Option<DateTime<Utc>>,
        f: impl FnOnce(&dyn Backend) -> T,
    ) -> T {
        match &self.clock {
            Some(clock) => {
                let _gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(t) = mock_time {
                    clock.set(t);
                }
                f(&*self.backend)
            }
            None => f(&*self.backend),
        }
    }

    /// The backend, for callers that need no mock time (the dashboard).
    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Closes the backend.
    pub(crate) fn close(&self) -> Result<()> {
        self.backend.close()
    }
}

/// The main store and the test stores.
#[derive(Debug)]
pub(crate) struct Stores {
    pub(crate) main: Arc<Store>,
    test: Option<TestStores>,
}

#[derive(Debug)]
struct TestStores {
    opener: StoreOpener,
    url_template: String,
    max: usize,
    by_name: Mutex<HashMap<String, Arc<Store>>>,
}

/// Why a test store could not be had.
#[derive(Debug)]
pub(crate) enum TestStoreError {
    /// The daemon is not in test mode.
    NotTestMode,
    /// The name is not 1-100 characters of `A-Z a-z 0-9 - _ .`.
    BadName,
    /// As many test stores as allowed are open.
    TooMany(usize),
    /// The store could not be opened.
    Open(Error),
}

impl std::fmt::Display for TestStoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestStoreError::NotTestMode => {
                f.write_str("test stores exist only in test mode (coordinated --test-mock-clock)")
            }
            TestStoreError::BadName => {
                f.write_str("a test store name is 1 to 100 characters of A-Z a-z 0-9 - _ .")
            }
            TestStoreError::TooMany(n) => write!(
                f,
                "{n} test stores are open already; drop some with DELETE /v1/test-store"
            ),
            TestStoreError::Open(e) => write!(f, "cannot open the test store: {e}"),
        }
    }
}

fn valid_test_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Stores {
    /// The main store, and test stores opened from `test_store_url` (where
    /// `{name}` stands for the store's name) when in test mode.
    pub(crate) fn new(
        main: Store,
        opener: StoreOpener,
        test_mode: bool,
        test_store_url: &str,
        max_test_stores: usize,
    ) -> Stores {
        Stores {
            main: Arc::new(main),
            test: test_mode.then(|| TestStores {
                opener,
                url_template: test_store_url.to_owned(),
                max: max_test_stores,
                by_name: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Whether the daemon is in test mode.
    pub(crate) fn test_mode(&self) -> bool {
        self.test.is_some()
    }

    /// The test store `name`, opened (with `seed`) on first use.
    pub(crate) fn test_store(
        &self,
        name: &str,
        seed: Option<u64>,
    ) -> std::result::Result<Arc<Store>, TestStoreError> {
        let test = self.test.as_ref().ok_or(TestStoreError::NotTestMode)?;
        if !valid_test_name(name) {
            return Err(TestStoreError::BadName);
        }
        let mut by_name = test.by_name.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = by_name.get(name) {
            return Ok(store.clone());
        }
        if by_name.len() >= test.max {
            return Err(TestStoreError::TooMany(test.max));
        }
        let url = test.url_template.replace("{name}", name);
        let store =
            Arc::new(Store::open(test.opener, &url, true, seed).map_err(TestStoreError::Open)?);
        by_name.insert(name.to_owned(), store.clone());
        Ok(store)
    }

    /// Drops the test store `name` (closing it); whether it existed.
    pub(crate) fn drop_test_store(&self, name: &str) -> std::result::Result<bool, TestStoreError> {
        let test = self.test.as_ref().ok_or(TestStoreError::NotTestMode)?;
        let store = test
            .by_name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        match store {
            Some(store) => {
                store.close().map_err(TestStoreError::Open)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// How many test stores are open.
    pub(crate) fn test_store_count(&self) -> usize {
        self.test.as_ref().map_or(0, |t| {
            t.by_name
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
        })
    }

    /// Closes every store (at shutdown); the first error, if any.
    pub(crate) fn close_all(&self) -> Result<()> {
        let mut first = self.main.close().err();
        if let Some(test) = &self.test {
            let stores: Vec<Arc<Store>> = test
                .by_name
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain()
                .map(|(_, s)| s)
                .collect();
            for store in stores {
                if let Err(e) = store.close() {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}
