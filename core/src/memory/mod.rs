//! The memory engine: the whole model in one process, behind the seam.
//!
//! One mutex guards the state; every operation (and every batch) runs under
//! it with the clock read inside the lock, so the order of calls is the order
//! of their times. The indexes keep every hot operation at O(log n) in the
//! number of work units.
//!
//! Invariants kept by every mutation (all of them in `engine.rs`):
//! - a unit with no active attempt is in exactly one of its spec's `available`
//!   (keyed by priority, name) or `delayed` (keyed by not-before, name) sets;
//!   a unit with an active attempt is in neither;
//! - `expiring` holds exactly the attempts that are Pending and active;
//! - the `pending`/`finished`/`failed` counters count units by the status of
//!   their active attempt;
//! - every object id is unique for the life of the engine, so a handle to a
//!   deleted object can never reach a new object of the same name.

mod attempts;
mod capacity;
mod engine;
mod ops;
mod request;
mod spec;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::backend::{
    AttemptRef, Backend, Id, NsRef, Op, Reply, SpecRef, UnitId, UnitRef, WorkerRef,
};
use crate::clock::{Clock, SystemClock};
use crate::connect::ConnectOptions;
use crate::error::{Error, Result};
use crate::value::Map;

use attempts::{AttemptState, Attempts};
use capacity::Usage;
pub use capacity::{Limits, DEFAULT_LIMITS};
use spec::{SpecState, UnitState};

pub(crate) type Time = DateTime<Utc>;

/// Hashes ids: they are unique sequential integers chosen by the engine (no
/// untrusted keys), so a multiplicative hash spreads them well at a fraction
/// of SipHash's cost.
#[derive(Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by object id.
pub(crate) type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;
/// A set of object ids.
pub(crate) type IdSet = HashSet<Id, BuildHasherDefault<IdHasher>>;

pub(crate) struct NsState {
    pub name: Arc<str>,
    pub specs: BTreeMap<Arc<str>, Id>,
    pub workers: BTreeMap<Arc<str>, Id>,
}

pub(crate) struct WorkerState {
    pub ns: Id,
    pub name: Arc<str>,
    pub parent: Option<Id>,
    pub children: BTreeSet<Id>,
    pub active: bool,
    pub mode: String,
    pub data: Map,
    pub expiration: Time,
    pub last_update: Time,
    /// Ids grow with creation, so sorting by id gives creation order.
    pub active_attempts: IdSet,
    /// Append-only; ids of deleted attempts are dropped when read.
    pub all_attempts: Vec<Id>,
}

/// Everything the memory engine holds.
pub(crate) struct State {
    next_id: Id,
    rng: StdRng,
    closed: bool,
    namespaces: IdMap<NsState>,
    ns_by_name: BTreeMap<Arc<str>, Id>,
    specs: IdMap<SpecState>,
    workers: IdMap<WorkerState>,
    attempts: Attempts,
    limits: Limits,
    usage: Usage,
}

impl State {
    fn new(rng: StdRng, limits: Limits) -> Self {
        State {
            limits,
            usage: Usage::default(),
            next_id: 1,
            rng,
            closed: false,
            namespaces: IdMap::default(),
            ns_by_name: BTreeMap::new(),
            specs: IdMap::default(),
            workers: IdMap::default(),
            attempts: Attempts::default(),
        }
    }

    fn fresh_id(&mut self) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn ns(&self, id: Id) -> Result<&NsState> {
        self.namespaces.get(&id).ok_or(Error::Gone)
    }

    fn spec(&self, id: Id) -> Result<&SpecState> {
        self.specs.get(&id).ok_or(Error::Gone)
    }

    fn spec_mut(&mut self, id: Id) -> Result<&mut SpecState> {
        self.specs.get_mut(&id).ok_or(Error::Gone)
    }

    /// The live unit `id`, with its slot.
    fn unit(&self, id: UnitId) -> Result<(spec::Slot, &UnitState)> {
        self.spec(id.spec)?.unit_by_id(id.unit)
    }

    fn worker(&self, id: Id) -> Result<&WorkerState> {
        self.workers.get(&id).ok_or(Error::Gone)
    }

    fn worker_mut(&mut self, id: Id) -> Result<&mut WorkerState> {
        self.workers.get_mut(&id).ok_or(Error::Gone)
    }

    fn attempt(&self, id: Id) -> Result<&AttemptState> {
        self.attempts.get(&id).ok_or(Error::Gone)
    }

    // ---- What replies say about objects ----

    fn ns_ref(&self, id: Id) -> Option<NsRef> {
        let ns = self.namespaces.get(&id)?;
        Some(NsRef {
            id,
            name: ns.name.clone(),
        })
    }

    fn spec_ref(&self, id: Id) -> Option<SpecRef> {
        let spec = self.specs.get(&id)?;
        Some(SpecRef {
            ns: self.ns_ref(spec.ns)?,
            id,
            name: spec.name.clone(),
        })
    }

    fn unit_ref(spec: SpecRef, unit: &UnitState) -> UnitRef {
        UnitRef {
            spec,
            id: unit.id,
            name: unit.name.clone(),
        }
    }

    fn worker_ref(&self, id: Id) -> Option<WorkerRef> {
        let w = self.workers.get(&id)?;
        Some(WorkerRef {
            ns: self.ns_ref(w.ns)?,
            id,
            name: w.name.clone(),
        })
    }

    fn attempt_ref(&self, id: Id) -> Option<AttemptRef> {
        let att = self.attempts.get(&id)?;
        let spec = self.specs.get(&att.spec)?;
        let unit = spec.unit(att.unit)?;
        let worker = self.workers.get(&att.worker)?;
        let ns = self.ns_ref(spec.ns)?;
        // Workers usually live in their spec's namespace: one lookup less.
        let worker_ns = if worker.ns == spec.ns {
            ns.clone()
        } else {
            self.ns_ref(worker.ns)?
        };
        let spec_ref = SpecRef {
            ns,
            id: att.spec,
            name: spec.name.clone(),
        };
        Some(AttemptRef {
            id,
            unit: State::unit_ref(spec_ref, unit),
            worker: WorkerRef {
                ns: worker_ns,
                id: att.worker,
                name: worker.name.clone(),
            },
        })
    }

    fn attempt_refs(&self, ids: impl IntoIterator<Item = Id>) -> Vec<AttemptRef> {
        ids.into_iter()
            .filter_map(|a| self.attempt_ref(a))
            .collect()
    }
}

/// The in-memory store: `Coordinate::new()`, `Coordinate::with_clock`, or
/// `Coordinate::connect("memory:", options)`.
pub struct MemoryBackend {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("clock", &self.clock)
            .finish()
    }
}

impl MemoryBackend {
    /// An empty store on `clock` whose scheduler draws from `seed` (or the OS).
    pub fn new(clock: Arc<dyn Clock>, seed: Option<u64>) -> Self {
        MemoryBackend::with_limits(clock, seed, Limits::default())
    }

    /// An empty store whose capacity is bounded by `limits` (adds past them
    /// fail with `Capacity`).
    pub fn with_limits(clock: Arc<dyn Clock>, seed: Option<u64>, limits: Limits) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        MemoryBackend {
            state: Mutex::new(State::new(rng, limits)),
            clock,
        }
    }

    /// Opens `memory:`: a new, empty store. Text after the colon is ignored
    /// up to a `?`; the query may set the capacity bounds
    /// (`memory:?max_units=N&max_bytes=N`, see [`Limits::from_url`]).
    pub fn open(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Backend>> {
        if !url.to_ascii_lowercase().starts_with("memory:") {
            return Err(Error::BadUrl {
                url: format!("{url} (a memory store's URL is \"memory:\")"),
            });
        }
        let clock = options
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock));
        let limits = Limits::from_url(url)?;
        Ok(Arc::new(MemoryBackend::with_limits(
            clock,
            options.seed,
            limits,
        )))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Backend for MemoryBackend {
    fn call(&self, op: Op) -> Result<Reply> {
        let mut state = self.lock();
        let now = self.clock.now();
        state.apply(op, now)
    }

    fn batch(&self, ops: Vec<Op>) -> Result<Vec<Result<Reply>>> {
        let mut state = self.lock();
        let now = self.clock.now();
        Ok(ops.into_iter().map(|op| state.apply(op, now)).collect())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn reseed(&self, seed: u64) {
        self.lock().rng = StdRng::seed_from_u64(seed);
    }

    fn close(&self) -> Result<()> {
        let mut state = self.lock();
        let limits = state.limits;
        *state = State::new(StdRng::seed_from_u64(0), limits);
        state.closed = true;
        Ok(())
    }

    /// Never: every call is a short critical section in this process.
    fn blocking(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(st: &mut State, name: &str, now: Time) -> Id {
        match st.apply(Op::Namespace { name: name.into() }, now) {
            Ok(Reply::Namespace(r)) => r.id,
            other => panic!("{other:?}"),
        }
    }

    fn worker(st: &mut State, ns: Id, name: &str, now: Time) -> Id {
        match st.apply(
            Op::Worker {
                ns,
                name: name.into(),
            },
            now,
        ) {
            Ok(Reply::Worker(Some(r))) => r.id,
            other => panic!("{other:?}"),
        }
    }

    /// Destroying a namespace leaves no link to its workers in the others:
    /// not in a child's `parent`, not in a parent's `children` set.
    #[test]
    fn destroy_leaves_no_cross_namespace_links() {
        let now = Utc::now();
        let mut st = State::new(StdRng::seed_from_u64(1), Limits::default());
        let (one, two) = (ns(&mut st, "one", now), ns(&mut st, "two", now));
        let p1 = worker(&mut st, one, "p1", now);
        let k1 = worker(&mut st, one, "k1", now);
        let c2 = worker(&mut st, two, "c2", now);
        let p2 = worker(&mut st, two, "p2", now);
        st.set_parent(c2, Some(p1)).unwrap();
        st.set_parent(k1, Some(p2)).unwrap();
        st.destroy_namespace(one);
        assert_eq!(st.workers[&c2].parent, None);
        assert!(st.workers[&p2].children.is_empty());
    }
}
