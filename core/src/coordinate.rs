//! The root object and namespaces.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::backend::{Backend, Id, NsRef, Op, Reply};
use crate::clock::{Clock, SystemClock};
use crate::connect::{self, ConnectOptions};
use crate::error::{Error, Result};
use crate::memory::MemoryBackend;
use crate::meta::Summary;
use crate::value::{Map, Value};
use crate::work_spec::WorkSpec;
use crate::worker::Worker;

/// Unwraps the reply an operation must give, or reports a store that broke
/// the protocol.
macro_rules! reply {
    ($call:expr, $pat:pat => $value:expr) => {
        match $call? {
            $pat => Ok($value),
            other => Err(other.unexpected()),
        }
    };
}
pub(crate) use reply;

/// The root of a Coordinate system: holds namespaces by name.
///
/// Cheap to clone (clones share the store) and safe to share between
/// threads; every call is atomic. The store is chosen where the Coordinate
/// is made: [`Coordinate::new`] and [`Coordinate::with_clock`] keep the
/// state in memory, [`Coordinate::connect`] opens a store by URL, and
/// [`Coordinate::from_backend`] takes any [`Backend`].
///
/// ```
/// use coordinate::{Coordinate, MockClock, Value};
/// let coord = Coordinate::with_clock(MockClock::default()).seeded(7);
/// let ns = coord.namespace("demo").unwrap();
/// let spec = ns.set_work_spec([("name".to_string(), Value::from("spec"))].into()).unwrap();
/// spec.add_work_unit("unit", Default::default(), Default::default()).unwrap();
/// let worker = ns.worker("worker").unwrap();
/// let attempts = worker.request_attempts(&Default::default()).unwrap();
/// assert_eq!(attempts[0].work_unit().name(), "unit");
/// attempts[0].finish(None).unwrap();
/// ```
#[derive(Clone)]
pub struct Coordinate {
    backend: Arc<dyn Backend>,
    /// The process generation this Coordinate was opened in (see
    /// [`after_fork_in_child`]).
    generation: u64,
}

/// Counts `fork()`s into child processes (as reported by the host).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Tells the core that this process is the child of a `fork()`. Every
/// Coordinate opened before it then answers [`Error::Storage`] saying why,
/// instead of touching state that another thread of the parent
/// may have held locked at the fork, or a file connection the parent still
/// uses: reopen the store in the child. The Python package calls this from
/// `os.register_at_fork`; a Rust program that forks calls it in the child.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

impl fmt::Debug for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coordinate")
            .field("backend", &self.backend)
            .finish()
    }
}

impl PartialEq for Coordinate {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.backend), Arc::as_ptr(&other.backend))
    }
}
impl Eq for Coordinate {}

impl Default for Coordinate {
    fn default() -> Self {
        Coordinate::new()
    }
}

impl Coordinate {
    /// An in-memory Coordinate on the system clock, with a randomly seeded scheduler.
    pub fn new() -> Self {
        Coordinate::with_options(Arc::new(SystemClock), None)
    }

    /// An in-memory Coordinate on `clock`, with a randomly seeded scheduler.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Coordinate::with_options(Arc::new(clock), None)
    }

    /// An in-memory Coordinate on `clock` whose scheduler draws from `seed` (or the OS).
    pub fn with_options(clock: Arc<dyn Clock>, seed: Option<u64>) -> Self {
        Coordinate::from_backend(Arc::new(MemoryBackend::new(clock, seed)))
    }

    /// A Coordinate over any store.
    pub fn from_backend(backend: Arc<dyn Backend>) -> Self {
        Coordinate {
            backend,
            generation: GENERATION.load(Ordering::Relaxed),
        }
    }

    /// Opens the store `url` names: `memory:` here; `sqlite:` and `http:`
    /// once the crates providing them registered their schemes
    /// (see [`register_scheme`](crate::register_scheme)). An unknown scheme
    /// is [`Error::BadUrl`](crate::Error::BadUrl).
    ///
    /// ```
    /// use coordinate::{ConnectOptions, Coordinate};
    /// let coord = Coordinate::connect("memory:", ConnectOptions::default()).unwrap();
    /// assert!(coord.namespaces().unwrap().is_empty());
    /// assert!(Coordinate::connect("gopher://x", ConnectOptions::default()).is_err());
    /// ```
    pub fn connect(url: &str, options: ConnectOptions) -> Result<Self> {
        connect::open(url, &options).map(Coordinate::from_backend)
    }

    /// Reseeds the scheduler's random source; returns `self` for chaining.
    pub fn seeded(self, seed: u64) -> Self {
        self.backend.reseed(seed);
        self
    }

    /// The current time of this Coordinate's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.backend.now()
    }

    /// The store behind this Coordinate.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Runs one operation on the store (what every handle call does).
    pub fn call(&self, op: Op) -> Result<Reply> {
        self.same_process()?;
        self.backend.call(op)
    }

    /// Refuses, in the child of a `fork()`, a Coordinate opened before it.
    fn same_process(&self) -> Result<()> {
        if GENERATION.load(Ordering::Relaxed) == self.generation {
            Ok(())
        } else {
            Err(Error::Storage {
                reason: "this Coordinate was opened before fork() in the parent process; \
                         open the store again in the child (coordinate.connect(...))"
                    .into(),
            })
        }
    }

    /// Runs operations in one transaction or round trip where the store can
    /// (for example: finish these attempts, then request the next ones).
    /// Each operation succeeds or fails on its own.
    pub fn batch(&self, ops: Vec<Op>) -> Result<Vec<Result<Reply>>> {
        self.same_process()?;
        self.backend.batch(ops)
    }

    /// Releases the store; every later call on this Coordinate or its
    /// handles gives `Gone`.
    pub fn close(&self) -> Result<()> {
        // In a forked child the parent's store is not ours to close.
        self.same_process()?;
        self.backend.close()
    }

    /// The namespace called `name`, created if absent.
    pub fn namespace(&self, name: &str) -> Result<Namespace> {
        let r = reply!(self.call(Op::Namespace { name: name.into() }), Reply::Namespace(r) => r)?;
        Ok(self.namespace_handle(r))
    }

    /// Every live namespace by name.
    pub fn namespaces(&self) -> Result<BTreeMap<String, Namespace>> {
        let refs = reply!(self.call(Op::Namespaces), Reply::Namespaces(r) => r)?;
        Ok(refs
            .into_iter()
            .map(|r| (r.name.to_string(), self.namespace_handle(r)))
            .collect())
    }

    /// Unit counts by namespace, spec and status, over everything.
    pub fn summarize(&self) -> Result<Summary> {
        reply!(self.call(Op::Summarize), Reply::Summary(s) => s)
    }

    /// The handle of the namespace `r` describes (a reply's ref, or one a
    /// binding rebuilt from the ids it keeps: only the ids reach the store).
    pub fn namespace_handle(&self, r: NsRef) -> Namespace {
        Namespace {
            coord: self.clone(),
            id: r.id,
            name: r.name,
        }
    }
}

/// A namespace: holds work specs and workers by name.
#[derive(Clone)]
pub struct Namespace {
    pub(crate) coord: Coordinate,
    pub(crate) id: Id,
    name: Arc<str>,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({:?})", self.name)
    }
}

impl PartialEq for Namespace {
    fn eq(&self, other: &Self) -> bool {
        self.coord == other.coord && self.id == other.id
    }
}
impl Eq for Namespace {}

impl std::hash::Hash for Namespace {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl Namespace {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's id of this namespace.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The Coordinate this namespace belongs to.
    pub fn coordinate(&self) -> &Coordinate {
        &self.coord
    }

    /// Deletes the namespace with all its specs, units, attempts and workers.
    /// Destroying an already destroyed namespace does nothing.
    pub fn destroy(&self) -> Result<()> {
        reply!(self.coord.call(Op::DestroyNamespace { ns: self.id }), Reply::Done => ())
    }

    /// Creates or updates the work spec named by `data["name"]`, deriving its
    /// meta from `data` (any runtime changes made by `set_meta` are reset).
    pub fn set_work_spec(&self, data: Map) -> Result<WorkSpec> {
        let op = Op::SetWorkSpec { ns: self.id, data };
        let r = reply!(self.coord.call(op), Reply::Spec(r) => r)?;
        Ok(WorkSpec::from_ref(&self.coord, r))
    }

    /// The work spec called `name`.
    pub fn work_spec(&self, name: &str) -> Result<WorkSpec> {
        let op = Op::WorkSpec {
            ns: self.id,
            name: name.into(),
        };
        let r = reply!(self.coord.call(op), Reply::Spec(r) => r)?;
        Ok(WorkSpec::from_ref(&self.coord, r))
    }

    /// Deletes the work spec called `name`, its units and their attempts.
    pub fn destroy_work_spec(&self, name: &str) -> Result<()> {
        let op = Op::DestroyWorkSpec {
            ns: self.id,
            name: name.into(),
        };
        reply!(self.coord.call(op), Reply::Done => ())
    }

    /// The names of every work spec, sorted.
    pub fn work_spec_names(&self) -> Result<Vec<String>> {
        reply!(self.coord.call(Op::WorkSpecNames { ns: self.id }), Reply::Names(n) => n)
    }

    /// The worker called `name`, created (active, expiring in 15 minutes) if absent.
    pub fn worker(&self, name: &str) -> Result<Worker> {
        let op = Op::Worker {
            ns: self.id,
            name: name.into(),
        };
        let r = reply!(self.coord.call(op), Reply::Worker(Some(r)) => r)?;
        Ok(Worker::from_ref(&self.coord, r))
    }

    /// Every worker of the namespace by name.
    pub fn workers(&self) -> Result<BTreeMap<String, Worker>> {
        let refs = reply!(self.coord.call(Op::Workers { ns: self.id }), Reply::Workers(w) => w)?;
        Ok(refs
            .into_iter()
            .map(|r| (r.name.to_string(), Worker::from_ref(&self.coord, r)))
            .collect())
    }

    /// Unit counts by spec and status.
    pub fn summarize(&self) -> Result<Summary> {
        reply!(self.coord.call(Op::SummarizeNamespace { ns: self.id }), Reply::Summary(s) => s)
    }
}

/// Builds a data map from pairs, for examples and tests.
pub fn map<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Map {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}
