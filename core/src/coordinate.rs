//! The root object and namespaces.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::clock::{add, Clock, SystemClock};
use crate::error::{Error, Result};
use crate::meta::{extract_work_spec_meta, Summary, SummaryRecord};
use crate::state::{Id, NsState, SpecState, State, Time, WorkerState, DEFAULT_LEASE};
use crate::value::{Map, Value};
use crate::work_spec::WorkSpec;
use crate::worker::Worker;

struct Shared {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

/// The root of a Coordinate system: holds namespaces by name.
///
/// Cheap to clone (clones share everything) and safe to share between
/// threads; every call is atomic.
///
/// ```
/// use coordinate::{Coordinate, MockClock, Value};
/// let coord = Coordinate::with_clock(MockClock::default()).seeded(7);
/// let ns = coord.namespace("demo");
/// let spec = ns.set_work_spec([("name".to_string(), Value::from("spec"))].into()).unwrap();
/// spec.add_work_unit("unit", Default::default(), Default::default()).unwrap();
/// let worker = ns.worker("worker").unwrap();
/// let attempts = worker.request_attempts(&Default::default()).unwrap();
/// assert_eq!(attempts[0].work_unit().name(), "unit");
/// attempts[0].finish(None).unwrap();
/// ```
#[derive(Clone)]
pub struct Coordinate {
    shared: Arc<Shared>,
}

impl fmt::Debug for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coordinate")
            .field("clock", &self.shared.clock)
            .finish()
    }
}

impl PartialEq for Coordinate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}
impl Eq for Coordinate {}

impl Default for Coordinate {
    fn default() -> Self {
        Coordinate::new()
    }
}

impl Coordinate {
    /// A Coordinate on the system clock, with a randomly seeded scheduler.
    pub fn new() -> Self {
        Coordinate::with_options(Arc::new(SystemClock), None)
    }

    /// A Coordinate on `clock`, with a randomly seeded scheduler.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Coordinate::with_options(Arc::new(clock), None)
    }

    /// A Coordinate on `clock` whose scheduler draws from `seed` (or the OS).
    pub fn with_options(clock: Arc<dyn Clock>, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        Coordinate {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(rng)),
                clock,
            }),
        }
    }

    /// Reseeds the scheduler's random source; returns `self` for chaining.
    pub fn seeded(self, seed: u64) -> Self {
        self.lock().rng = StdRng::seed_from_u64(seed);
        self
    }

    /// The current time of this Coordinate's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the locked state with the clock read inside the lock, so
    /// that the order of calls is the order of their times.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State, Time) -> T) -> T {
        let mut state = self.lock();
        let now = self.shared.clock.now();
        f(&mut state, now)
    }

    /// The namespace called `name`, created if absent.
    pub fn namespace(&self, name: &str) -> Namespace {
        let id = self.with(|st, _| {
            if let Some(&id) = st.ns_by_name.get(name) {
                return id;
            }
            let id = st.fresh_id();
            let name: Arc<str> = Arc::from(name);
            st.namespaces.insert(
                id,
                NsState {
                    name: name.clone(),
                    specs: BTreeMap::new(),
                    workers: BTreeMap::new(),
                },
            );
            st.ns_by_name.insert(name, id);
            id
        });
        Namespace {
            coord: self.clone(),
            id,
            name: Arc::from(name),
        }
    }

    /// Every live namespace by name.
    pub fn namespaces(&self) -> BTreeMap<String, Namespace> {
        self.with(|st, _| {
            st.ns_by_name
                .iter()
                .map(|(name, &id)| (name.to_string(), self.namespace_handle(id, name.clone())))
                .collect()
        })
    }

    /// Unit counts by namespace, spec and status, over everything.
    pub fn summarize(&self) -> Summary {
        self.with(|st, now| {
            let ids: Vec<Id> = st.ns_by_name.values().copied().collect();
            ids.into_iter()
                .flat_map(|id| summarize_ns(st, id, now))
                .collect()
        })
    }

    pub(crate) fn namespace_handle(&self, id: Id, name: Arc<str>) -> Namespace {
        Namespace {
            coord: self.clone(),
            id,
            name,
        }
    }
}

pub(crate) fn summarize_ns(st: &mut State, ns: Id, now: Time) -> Summary {
    let Ok(ns_state) = st.ns(ns) else {
        return Vec::new();
    };
    let specs: Vec<Id> = ns_state.specs.values().copied().collect();
    specs
        .into_iter()
        .flat_map(|spec| summarize_spec(st, spec, now))
        .collect()
}

pub(crate) fn summarize_spec(st: &mut State, spec: Id, now: Time) -> Summary {
    st.sweep(spec, now);
    let (Ok(counts), Ok(spec_state)) = (st.status_counts(spec), st.spec(spec)) else {
        return Vec::new();
    };
    let namespace = st
        .ns(spec_state.ns)
        .map(|n| n.name.to_string())
        .unwrap_or_default();
    counts
        .into_iter()
        .map(|(status, count)| SummaryRecord {
            namespace: namespace.clone(),
            work_spec: spec_state.name.to_string(),
            status,
            count,
        })
        .collect()
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

    /// The Coordinate this namespace belongs to.
    pub fn coordinate(&self) -> &Coordinate {
        &self.coord
    }

    /// Deletes the namespace with all its specs, units, attempts and workers.
    /// Destroying an already destroyed namespace does nothing.
    pub fn destroy(&self) -> Result<()> {
        self.coord.with(|st, _| {
            let Some(ns) = st.namespaces.remove(&self.id) else {
                return;
            };
            for spec in ns.specs.values() {
                st.remove_spec(*spec);
            }
            for worker in ns.workers.values() {
                st.workers.remove(worker);
            }
            if st.ns_by_name.get(&ns.name) == Some(&self.id) {
                st.ns_by_name.remove(&ns.name);
            }
        });
        Ok(())
    }

    /// Creates or updates the work spec named by `data["name"]`, deriving its
    /// meta from `data` (any runtime changes made by `set_meta` are reset).
    pub fn set_work_spec(&self, data: Map) -> Result<WorkSpec> {
        self.coord.with(|st, _| {
            // A dead namespace answers Gone before the data is validated (§1.4).
            st.ns(self.id)?;
            let (name, meta) = extract_work_spec_meta(&data)?;
            let existing = st.ns(self.id)?.specs.get(name.as_str()).copied();
            let id = match existing {
                Some(id) => {
                    let spec = st.spec_mut(id)?;
                    spec.data = data;
                    spec.meta = meta;
                    id
                }
                None => {
                    let id = st.fresh_id();
                    let key: Arc<str> = Arc::from(name.as_str());
                    st.specs
                        .insert(id, SpecState::new(self.id, key.clone(), data, meta));
                    st.namespaces
                        .get_mut(&self.id)
                        .ok_or(Error::Gone)?
                        .specs
                        .insert(key, id);
                    id
                }
            };
            Ok(WorkSpec::new(self.clone(), id, Arc::from(name)))
        })
    }

    /// The work spec called `name`.
    pub fn work_spec(&self, name: &str) -> Result<WorkSpec> {
        self.coord.with(|st, _| {
            let (key, &id) = st
                .ns(self.id)?
                .specs
                .get_key_value(name)
                .ok_or_else(|| Error::NoSuchWorkSpec { name: name.into() })?;
            Ok(WorkSpec::new(self.clone(), id, key.clone()))
        })
    }

    /// Deletes the work spec called `name`, its units and their attempts.
    pub fn destroy_work_spec(&self, name: &str) -> Result<()> {
        self.coord.with(|st, _| {
            let id = *st
                .ns(self.id)?
                .specs
                .get(name)
                .ok_or_else(|| Error::NoSuchWorkSpec { name: name.into() })?;
            st.remove_spec(id);
            Ok(())
        })
    }

    /// The names of every work spec, sorted.
    pub fn work_spec_names(&self) -> Result<Vec<String>> {
        self.coord.with(|st, _| {
            Ok(st
                .ns(self.id)?
                .specs
                .keys()
                .map(|k| k.to_string())
                .collect())
        })
    }

    /// The worker called `name`, created (active, expiring in 15 minutes) if absent.
    pub fn worker(&self, name: &str) -> Result<Worker> {
        self.coord.with(|st, now| {
            if let Some((key, &id)) = st.ns(self.id)?.workers.get_key_value(name) {
                return Ok(Worker::new(self.clone(), id, key.clone()));
            }
            let id = st.fresh_id();
            let key: Arc<str> = Arc::from(name);
            st.workers.insert(
                id,
                WorkerState {
                    ns: self.id,
                    name: key.clone(),
                    parent: None,
                    children: Default::default(),
                    active: true,
                    mode: String::new(),
                    data: Map::new(),
                    expiration: add(now, DEFAULT_LEASE),
                    last_update: now,
                    active_attempts: Default::default(),
                    all_attempts: Vec::new(),
                },
            );
            st.namespaces
                .get_mut(&self.id)
                .ok_or(Error::Gone)?
                .workers
                .insert(key.clone(), id);
            Ok(Worker::new(self.clone(), id, key))
        })
    }

    /// Every worker of the namespace by name.
    pub fn workers(&self) -> Result<BTreeMap<String, Worker>> {
        self.coord.with(|st, _| {
            Ok(st
                .ns(self.id)?
                .workers
                .iter()
                .map(|(k, &id)| (k.to_string(), Worker::new(self.clone(), id, k.clone())))
                .collect())
        })
    }

    /// Unit counts by spec and status.
    pub fn summarize(&self) -> Result<Summary> {
        self.coord.with(|st, now| {
            st.ns(self.id)?;
            Ok(summarize_ns(st, self.id, now))
        })
    }
}

/// Builds a data map from pairs, for examples and tests.
pub fn map<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Map {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}
