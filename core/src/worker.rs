//! Workers and the request for work.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::attempt::Attempt;
use crate::clock::add;
use crate::coordinate::{Coordinate, Namespace};
use crate::error::{Error, Result};
use crate::meta::AttemptRequest;
use crate::scheduler::choose;
use crate::state::{Id, IdSet, Slot, SpecState, State, Time, WorkerState, DEFAULT_LEASE};
use crate::status::AttemptStatus;
use crate::value::{Map, Value};
use crate::work_unit::WorkUnit;

/// A worker: something that asks for work and holds attempts. Workers form
/// a hierarchy (a parent sees its children's attempts).
#[derive(Clone)]
pub struct Worker {
    ns: Namespace,
    pub(crate) id: Id,
    name: Arc<str>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Worker({:?})", self.name)
    }
}

impl PartialEq for Worker {
    fn eq(&self, other: &Self) -> bool {
        self.ns.coord == other.ns.coord && self.id == other.id
    }
}
impl Eq for Worker {}

impl std::hash::Hash for Worker {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl Worker {
    pub(crate) fn new(ns: Namespace, id: Id, name: Arc<str>) -> Self {
        Worker { ns, id, name }
    }

    fn coord(&self) -> &Coordinate {
        &self.ns.coord
    }

    /// Runs `f` on the worker's state; `Gone` if it or its namespace was deleted.
    fn with<T>(&self, f: impl FnOnce(&mut State, Time) -> Result<T>) -> Result<T> {
        self.coord().with(|st, now| {
            st.worker(self.id)?;
            f(st, now)
        })
    }

    fn read<T>(&self, f: impl FnOnce(&WorkerState) -> T) -> Result<T> {
        self.with(|st, _| Ok(f(st.worker(self.id)?)))
    }

    fn handle(&self, st: &State, id: Id) -> Option<Worker> {
        let w = st.workers.get(&id)?;
        let ns = st.namespaces.get(&w.ns)?;
        Some(Worker::new(
            self.coord().namespace_handle(w.ns, ns.name.clone()),
            id,
            w.name.clone(),
        ))
    }

    fn attempts(&self, st: &State, ids: impl IntoIterator<Item = Id>) -> Vec<Attempt> {
        ids.into_iter()
            .filter_map(|a| Attempt::from_state(st, self.coord(), a))
            .collect()
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace of this worker.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The parent worker, if any.
    pub fn parent(&self) -> Result<Option<Worker>> {
        self.with(|st, _| Ok(st.worker(self.id)?.parent.and_then(|p| self.handle(st, p))))
    }

    /// Moves this worker under `parent`, or makes it a root with `None`.
    pub fn set_parent(&self, parent: Option<&Worker>) -> Result<()> {
        if let Some(p) = parent {
            if p.coord() != self.coord() {
                return Err(Error::WrongBackend);
            }
        }
        self.with(|st, _| {
            let new = match parent {
                Some(p) => Some(st.worker(p.id)?.ns).map(|_| p.id),
                None => None,
            };
            let old = st.worker(self.id)?.parent;
            if old == new {
                return Ok(());
            }
            if let Some(old) = old.and_then(|o| st.workers.get_mut(&o)) {
                old.children.remove(&self.id);
            }
            if let Some(new) = new.and_then(|n| st.workers.get_mut(&n)) {
                new.children.insert(self.id);
            }
            st.worker_mut(self.id)?.parent = new;
            Ok(())
        })
    }

    /// The worker's children, sorted by name.
    pub fn children(&self) -> Result<Vec<Worker>> {
        self.with(|st, _| {
            let mut children: Vec<Worker> = st
                .worker(self.id)?
                .children
                .iter()
                .filter_map(|&c| self.handle(st, c))
                .collect();
            children.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(children)
        })
    }

    /// Whether the worker is active (informational only).
    pub fn active(&self) -> Result<bool> {
        self.read(|w| w.active)
    }

    /// Marks the worker inactive; its attempts are unaffected.
    pub fn deactivate(&self) -> Result<()> {
        self.with(|st, _| {
            st.worker_mut(self.id)?.active = false;
            Ok(())
        })
    }

    /// The mode last reported by `update` ("" if never updated).
    pub fn mode(&self) -> Result<String> {
        self.read(|w| w.mode.clone())
    }

    /// The data last reported by `update` (empty if never updated).
    pub fn data(&self) -> Result<Map> {
        self.read(|w| w.data.clone())
    }

    /// The expiration last reported (15 minutes after creation if never updated).
    pub fn expiration(&self) -> Result<DateTime<Utc>> {
        self.read(|w| w.expiration)
    }

    /// The time of the last update (creation time if never updated).
    pub fn last_update(&self) -> Result<DateTime<Utc>> {
        self.read(|w| w.last_update)
    }

    /// Records the worker's state as reported by it and marks it active.
    /// `now` and `expiration` are stored as given; the clock is not read.
    pub fn update(
        &self,
        data: Map,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()> {
        self.with(|st, _| {
            let w = st.worker_mut(self.id)?;
            w.active = true;
            w.data = data;
            w.last_update = now;
            w.expiration = expiration;
            w.mode = mode.to_owned();
            Ok(())
        })
    }

    /// Asks the scheduler for work: picks a spec, then hands out up to the
    /// requested number of its best available units as new attempts, in order.
    /// No work gives an empty list.
    pub fn request_attempts(&self, req: &AttemptRequest) -> Result<Vec<Attempt>> {
        self.with(|st, now| {
            let ids = request(st, self.id, req, now)?;
            Ok(self.attempts(st, ids))
        })
    }

    /// Starts an attempt on `unit` regardless of its state, spec limits or
    /// retries; a zero `lifetime` means 15 minutes.
    pub fn make_attempt(&self, unit: &WorkUnit, lifetime: TimeDelta) -> Result<Attempt> {
        if unit.work_spec().namespace().coordinate() != self.coord() {
            return Err(Error::WrongBackend);
        }
        let lifetime = if lifetime.is_zero() {
            DEFAULT_LEASE
        } else {
            lifetime
        };
        self.with(|st, now| {
            let spec = unit.work_spec().id;
            st.unit(spec, unit.slot, unit.id)?;
            let id = st.start_attempt(spec, unit.slot, self.id, lifetime, now)?;
            Attempt::from_state(st, self.coord(), id).ok_or(Error::Gone)
        })
    }

    /// Attempts of this worker not yet completed, oldest first.
    pub fn active_attempts(&self) -> Result<Vec<Attempt>> {
        self.with(|st, _| {
            let ids = sorted(&st.worker(self.id)?.active_attempts);
            Ok(self.attempts(st, ids))
        })
    }

    /// Every attempt of this worker whose unit still exists, oldest first.
    pub fn all_attempts(&self) -> Result<Vec<Attempt>> {
        self.with(|st, _| {
            let live: Vec<Id> = st
                .worker(self.id)?
                .all_attempts
                .iter()
                .copied()
                .filter(|a| st.attempts.contains_key(a))
                .collect();
            st.worker_mut(self.id)?.all_attempts = live.clone();
            Ok(self.attempts(st, live))
        })
    }

    /// The active attempts of this worker's children, child by child (sorted by name).
    pub fn child_attempts(&self) -> Result<Vec<Attempt>> {
        self.with(|st, _| {
            let mut children: Vec<&WorkerState> = st
                .worker(self.id)?
                .children
                .iter()
                .filter_map(|c| st.workers.get(c))
                .collect();
            children.sort_by(|a, b| a.name.cmp(&b.name));
            let ids: Vec<Id> = children
                .iter()
                .flat_map(|c| sorted(&c.active_attempts))
                .collect();
            Ok(self.attempts(st, ids))
        })
    }
}

/// Attempt ids in creation order.
fn sorted(ids: &IdSet) -> Vec<Id> {
    let mut ids: Vec<Id> = ids.iter().copied().collect();
    ids.sort_unstable();
    ids
}

/// The request algorithm: sweep, schedule, draw, apply max-retries.
fn request(st: &mut State, worker: Id, req: &AttemptRequest, now: Time) -> Result<Vec<Id>> {
    let ns = st.worker(worker)?.ns;
    let ids: Vec<Id> = st.ns(ns)?.specs.values().copied().collect();
    for &id in &ids {
        st.sweep(id, now); // also refreshes the counts in the spec's meta
    }
    // The filters of limit_metas_to_names and limit_metas_to_runtimes, over
    // the stored metas (in name order), without copying them.
    let specs = &st.specs;
    let candidates: Vec<(Id, &SpecState)> = ids
        .iter()
        .filter_map(|&id| Some((id, specs.get(&id)?)))
        .filter(|(_, s)| {
            (req.work_specs.is_empty() || req.work_specs.iter().any(|n| **n == *s.name))
                && (req.runtimes.is_empty() || req.runtimes.contains(&s.meta.runtime))
        })
        .collect();
    let metas = candidates.iter().map(|(_, s)| (&*s.name, &s.meta));
    let Ok(chosen) = choose(metas, now, &mut st.rng) else {
        return Ok(Vec::new());
    };
    let Some(&(spec_id, spec)) = candidates.iter().find(|(_, s)| *s.name == *chosen) else {
        return Ok(Vec::new());
    };
    let meta = spec.meta.clone();
    let mut count = req.number_of_work_units.max(1);
    if meta.max_attempts_returned > 0 {
        count = count.min(meta.max_attempts_returned);
    }
    if meta.max_running > 0 {
        count = count.min(meta.max_running - meta.pending_count).max(1);
    }
    let lifetime = if req.lifetime > TimeDelta::zero() {
        req.lifetime
    } else {
        DEFAULT_LEASE
    };
    let mut taken = 0i64;
    let mut survivors = Vec::new();
    loop {
        let mut drawn = 0;
        while drawn < count {
            let spec = st.spec_mut(spec_id)?;
            let (slot, id) = if let Some((_, _, slot)) = spec.queues.available.pop_first() {
                // Already out of its queue: attach without another search.
                (
                    slot,
                    st.attach_attempt(spec_id, slot, worker, lifetime, now)?,
                )
            } else if meta.available_count == 0
                && meta.pending_count + taken == 0
                && meta.can_start_continuous(now)
            {
                let slot = continuous_unit(st, spec_id, now)?;
                (
                    slot,
                    st.start_attempt(spec_id, slot, worker, lifetime, now)?,
                )
            } else {
                break;
            };
            drawn += 1;
            taken += 1;
            let attempts = st.spec(spec_id)?.unit(slot).map_or(0, |u| u.num_attempts);
            if meta.max_retries > 0 && i64::from(attempts) > meta.max_retries {
                let data: Map = [("traceback".to_owned(), Value::from("too many retries"))].into();
                st.complete(id, AttemptStatus::Failed, Some(data), now);
            } else {
                survivors.push(id);
            }
        }
        // Only a batch that was drawn and failed whole is drawn again.
        if drawn == 0 || !survivors.is_empty() || meta.max_retries <= 0 {
            break;
        }
    }
    Ok(survivors)
}

/// Creates (or reuses) the continuous unit named for `now` and moves the
/// spec's next continuous time on by its interval.
fn continuous_unit(st: &mut State, spec_id: Id, now: Time) -> Result<Slot> {
    let name = format!("{}.{:03}", now.timestamp(), now.timestamp_subsec_millis());
    let slot = match st.spec(spec_id)?.names.get(name.as_str()) {
        Some(&slot) => slot,
        None => st.put_unit(spec_id, &name, Map::new(), Default::default(), now)?,
    };
    let spec = st.spec_mut(spec_id)?;
    spec.meta.next_continuous = Some(add(now, spec.meta.interval));
    Ok(slot)
}
