//! The shared state behind a `Coordinate`, with the indexes that keep every
//! hot operation at O(log n) in the number of work units.
//!
//! Invariants kept by every mutation here:
//! - a unit with no active attempt is in exactly one of its spec's `available`
//!   (keyed by priority, name) or `delayed` (keyed by not-before, name) sets;
//!   a unit with an active attempt is in neither;
//! - `expiring` holds exactly the attempts that are Pending and active;
//! - the `pending`/`finished`/`failed` counters count units by the status of
//!   their active attempt;
//! - every object id is unique for the life of the `Coordinate`, so a handle
//!   to a deleted object can never reach a new object of the same name.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;

use crate::clock::add;
use crate::error::{Error, Result};
use crate::meta::{AddWorkUnitItem, WorkSpecMeta, WorkUnitMeta};
use crate::status::{AttemptStatus, WorkUnitStatus};
use crate::value::Map;

/// Identity of an object inside one `Coordinate`; never reused.
pub(crate) type Id = u64;
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

/// The default attempt lifetime and worker expiration.
pub(crate) const DEFAULT_LEASE: TimeDelta = TimeDelta::minutes(15);

/// A unit priority ordered so that higher priorities sort first.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueuePriority(pub f64);

impl PartialEq for QueuePriority {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for QueuePriority {}
impl PartialOrd for QueuePriority {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for QueuePriority {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0)
    }
}

/// Normalises -0.0 to 0.0 so that equal priorities order by name.
pub(crate) fn priority(p: f64) -> f64 {
    if p == 0.0 {
        0.0
    } else {
        p
    }
}

pub(crate) struct NsState {
    pub name: Arc<str>,
    pub specs: BTreeMap<Arc<str>, Id>,
    pub workers: BTreeMap<Arc<str>, Id>,
}

pub(crate) struct UnitState {
    pub id: Id,
    pub name: Arc<str>,
    pub data: Map,
    pub priority: f64,
    pub not_before: Option<Time>,
    pub active: Option<Id>,
    /// The newest attempt; older ones chain through `AttemptState::prev`.
    pub last_attempt: Option<Id>,
    pub num_attempts: u32,
}

/// Index of a unit in its spec's slab; stable while the unit lives.
pub(crate) type Slot = u32;

/// Units with no active attempt, by when and in which order they run.
#[derive(Default)]
pub(crate) struct Queues {
    /// Ordered by priority (highest first), then name; the slot finds the unit.
    pub available: BTreeSet<(QueuePriority, Arc<str>, Slot)>,
    pub delayed: BTreeSet<(Time, Slot)>,
    /// The latest `now` that placed a unit; an earlier `now` means the clock
    /// went back and `available` may hold units that are delayed again.
    pub placed_at: Option<Time>,
}

impl Queues {
    pub fn enqueue(&mut self, slot: Slot, unit: &UnitState, now: Time) {
        self.placed_at = Some(self.placed_at.map_or(now, |t| t.max(now)));
        match unit.not_before {
            Some(nb) if now < nb => self.delayed.insert((nb, slot)),
            _ => self
                .available
                .insert((QueuePriority(unit.priority), unit.name.clone(), slot)),
        };
    }

    pub fn dequeue(&mut self, slot: Slot, unit: &UnitState) {
        if !self
            .available
            .remove(&(QueuePriority(unit.priority), unit.name.clone(), slot))
        {
            if let Some(nb) = unit.not_before {
                self.delayed.remove(&(nb, slot));
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Counts {
    pub pending: i64,
    pub finished: i64,
    pub failed: i64,
}

impl Counts {
    fn slot(&mut self, status: AttemptStatus) -> Option<&mut i64> {
        match status {
            AttemptStatus::Pending => Some(&mut self.pending),
            AttemptStatus::Finished => Some(&mut self.finished),
            AttemptStatus::Failed => Some(&mut self.failed),
            AttemptStatus::Expired | AttemptStatus::Retryable => None,
        }
    }
    pub fn add(&mut self, status: AttemptStatus, n: i64) {
        if let Some(c) = self.slot(status) {
            *c += n;
        }
    }
}

pub(crate) struct SpecState {
    pub ns: Id,
    pub name: Arc<str>,
    pub data: Map,
    pub meta: WorkSpecMeta,
    /// Units by slot; `None` marks a free slot (listed in `free`).
    pub units: Vec<Option<UnitState>>,
    pub free: Vec<Slot>,
    /// Slots by name, in name order (for lookups and queries).
    pub names: BTreeMap<Arc<str>, Slot>,
    pub queues: Queues,
    pub expiring: BTreeSet<(Time, Id)>,
    pub counts: Counts,
}

/// The unit in `slot`, borrowing only the slab (so other fields stay usable).
fn slot_mut(units: &mut [Option<UnitState>], slot: Slot) -> Option<&mut UnitState> {
    units.get_mut(slot as usize).and_then(Option::as_mut)
}

impl SpecState {
    pub fn new(ns: Id, name: Arc<str>, data: Map, meta: WorkSpecMeta) -> Self {
        SpecState {
            ns,
            name,
            data,
            meta,
            units: Vec::new(),
            free: Vec::new(),
            names: BTreeMap::new(),
            queues: Queues::default(),
            expiring: BTreeSet::new(),
            counts: Counts::default(),
        }
    }

    pub fn unit(&self, slot: Slot) -> Option<&UnitState> {
        self.units.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn unit_mut(&mut self, slot: Slot) -> Option<&mut UnitState> {
        slot_mut(&mut self.units, slot)
    }

    /// A free slot for a new unit (reusing a deleted unit's slot first).
    fn take_slot(&mut self) -> Result<Slot> {
        if let Some(slot) = self.free.pop() {
            return Ok(slot);
        }
        let slot = Slot::try_from(self.units.len()).map_err(|_| Error::BadWorkUnitItem {
            reason: "a work spec holds at most 2^32 work units".into(),
        })?;
        self.units.push(None);
        Ok(slot)
    }

    /// The slot and unit called `name`.
    pub fn named(&self, name: &str) -> Option<(Slot, &UnitState)> {
        let slot = *self.names.get(name)?;
        Some((slot, self.unit(slot)?))
    }

    /// Takes a unit out of whatever accounts for it: its active attempt's
    /// counter and expiry entry, or its queue. The caller re-homes or removes it.
    fn release(&mut self, slot: Slot, attempts: &Attempts) {
        let Some(unit) = self.units.get(slot as usize).and_then(Option::as_ref) else {
            return;
        };
        match unit.active.and_then(|a| attempts.get(&a).map(|s| (a, s))) {
            Some((id, att)) => {
                self.counts.add(att.status, -1);
                if att.status == AttemptStatus::Pending {
                    self.expiring.remove(&(att.expiration, id));
                }
            }
            None => self.queues.dequeue(slot, unit),
        }
    }

    /// Re-queues a unit after `f` changes it (its queue keys may change).
    pub fn requeue(&mut self, slot: Slot, now: Time, f: impl FnOnce(&mut UnitState)) {
        let Some(unit) = slot_mut(&mut self.units, slot) else {
            return;
        };
        let queued = unit.active.is_none();
        if queued {
            self.queues.dequeue(slot, unit);
        }
        f(unit);
        if queued {
            self.queues.enqueue(slot, unit, now);
        }
    }
}

pub(crate) struct AttemptState {
    pub spec: Id,
    pub unit: Slot,
    /// The unit's previous attempt.
    pub prev: Option<Id>,
    pub worker: Id,
    pub status: AttemptStatus,
    pub data: Map,
    pub start: Time,
    pub end: Option<Time>,
    pub expiration: Time,
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

/// Every attempt, by id. Attempt ids come from their own counter, so the
/// attempts sit in creation order in a deque: creating and finding one is an
/// index (no hashing, and neighbours in time are neighbours in memory).
/// Removed attempts leave a hole until every older one is removed too.
#[derive(Default)]
pub(crate) struct Attempts {
    /// The id of `items[0]`.
    base: Id,
    items: VecDeque<Option<AttemptState>>,
}

impl Attempts {
    /// The id the next attempt gets.
    pub fn next_id(&self) -> Id {
        self.base + self.items.len() as Id
    }

    fn index(&self, id: Id) -> Option<usize> {
        usize::try_from(id.checked_sub(self.base)?).ok()
    }

    pub fn get(&self, id: &Id) -> Option<&AttemptState> {
        self.items.get(self.index(*id)?)?.as_ref()
    }

    pub fn get_mut(&mut self, id: &Id) -> Option<&mut AttemptState> {
        let i = self.index(*id)?;
        self.items.get_mut(i)?.as_mut()
    }

    pub fn contains_key(&self, id: &Id) -> bool {
        self.get(id).is_some()
    }

    /// Adds the attempt with id `next_id()`.
    pub fn push(&mut self, att: AttemptState) -> Id {
        let id = self.next_id();
        self.items.push_back(Some(att));
        id
    }

    pub fn remove(&mut self, id: &Id) -> Option<AttemptState> {
        let i = self.index(*id)?;
        let att = self.items.get_mut(i)?.take();
        while let Some(None) = self.items.front() {
            self.items.pop_front();
            self.base += 1;
        }
        att
    }
}

pub(crate) struct State {
    next_id: Id,
    pub rng: StdRng,
    pub namespaces: IdMap<NsState>,
    pub ns_by_name: BTreeMap<Arc<str>, Id>,
    pub specs: IdMap<SpecState>,
    pub workers: IdMap<WorkerState>,
    pub attempts: Attempts,
}

impl State {
    pub fn new(rng: StdRng) -> Self {
        State {
            next_id: 1,
            rng,
            namespaces: IdMap::default(),
            ns_by_name: BTreeMap::new(),
            specs: IdMap::default(),
            workers: IdMap::default(),
            attempts: Attempts::default(),
        }
    }

    pub fn fresh_id(&mut self) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn ns(&self, id: Id) -> Result<&NsState> {
        self.namespaces.get(&id).ok_or(Error::Gone)
    }

    pub fn spec(&self, id: Id) -> Result<&SpecState> {
        self.specs.get(&id).ok_or(Error::Gone)
    }

    pub fn spec_mut(&mut self, id: Id) -> Result<&mut SpecState> {
        self.specs.get_mut(&id).ok_or(Error::Gone)
    }

    /// The live unit at `slot` whose id is `id`.
    pub fn unit(&self, spec: Id, slot: Slot, id: Id) -> Result<&UnitState> {
        self.spec(spec)?
            .unit(slot)
            .filter(|u| u.id == id)
            .ok_or(Error::Gone)
    }

    pub fn worker(&self, id: Id) -> Result<&WorkerState> {
        self.workers.get(&id).ok_or(Error::Gone)
    }

    pub fn worker_mut(&mut self, id: Id) -> Result<&mut WorkerState> {
        self.workers.get_mut(&id).ok_or(Error::Gone)
    }

    pub fn attempt(&self, id: Id) -> Result<&AttemptState> {
        self.attempts.get(&id).ok_or(Error::Gone)
    }

    /// The status of a unit at `now`, assuming its spec was swept.
    pub fn unit_status(&self, unit: &UnitState, now: Time) -> WorkUnitStatus {
        match unit
            .active
            .and_then(|a| self.attempts.get(&a))
            .map(|a| a.status)
        {
            Some(AttemptStatus::Pending) => WorkUnitStatus::Pending,
            Some(AttemptStatus::Finished) => WorkUnitStatus::Finished,
            Some(AttemptStatus::Failed) => WorkUnitStatus::Failed,
            _ => match unit.not_before {
                Some(nb) if now < nb => WorkUnitStatus::Delayed,
                _ => WorkUnitStatus::Available,
            },
        }
    }

    /// Expires every active Pending attempt of the spec past its deadline,
    /// and moves units whose delay has passed into the available queue.
    pub fn sweep(&mut self, spec_id: Id, now: Time) {
        let Some(mut spec) = self.specs.get_mut(&spec_id) else {
            return;
        };
        while let Some(&(exp, id)) = spec.expiring.first() {
            if now <= exp {
                break;
            }
            self.complete(id, AttemptStatus::Expired, None, now);
            let Some(again) = self.specs.get_mut(&spec_id) else {
                return;
            };
            spec = again;
            spec.expiring.remove(&(exp, id)); // already gone; a guard against looping
        }
        let queues = &mut spec.queues;
        if queues.placed_at.is_some_and(|t| now < t) {
            // The clock went back: units made available may be delayed again.
            let units = &spec.units;
            let nb = |slot: Slot| units[slot as usize].as_ref().and_then(|u| u.not_before);
            let again: Vec<_> = queues
                .available
                .iter()
                .filter(|(_, _, slot)| nb(*slot).is_some_and(|nb| now < nb))
                .cloned()
                .collect();
            for entry in again {
                queues.available.remove(&entry);
                if let Some(t) = nb(entry.2) {
                    queues.delayed.insert((t, entry.2));
                }
            }
        }
        while let Some(&(nb, slot)) = queues.delayed.first() {
            if now < nb {
                break;
            }
            queues.delayed.pop_first();
            if let Some(u) = spec.units.get(slot as usize).and_then(Option::as_ref) {
                queues
                    .available
                    .insert((QueuePriority(u.priority), u.name.clone(), slot));
            }
        }
        queues.placed_at = Some(now);
        // The stored meta carries the counts as of the last sweep, so the
        // scheduler reads metas in place; `meta(false)` hides them.
        spec.meta.available_count = queues.available.len() as i64;
        spec.meta.pending_count = spec.counts.pending;
    }

    /// Leaves Pending (or Failed, for a late Finish) for `status` at `now`:
    /// the "Complete" of the specification.
    pub fn complete(&mut self, id: Id, status: AttemptStatus, data: Option<Map>, now: Time) {
        let Some(att) = self.attempts.get_mut(&id) else {
            return;
        };
        let was = att.status;
        att.status = status;
        att.end = Some(now);
        if let Some(data) = data {
            att.data = data;
        }
        let (spec_id, slot, worker_id, expiration) =
            (att.spec, att.unit, att.worker, att.expiration);
        if let Some(w) = self.workers.get_mut(&worker_id) {
            w.active_attempts.remove(&id);
        }
        let Some(spec) = self.specs.get_mut(&spec_id) else {
            return;
        };
        let Some(unit) = slot_mut(&mut spec.units, slot) else {
            return;
        };
        if unit.active != Some(id) {
            return;
        }
        spec.counts.add(was, -1);
        if was == AttemptStatus::Pending {
            spec.expiring.remove(&(expiration, id));
        }
        match status {
            AttemptStatus::Expired | AttemptStatus::Retryable => {
                unit.active = None;
                spec.queues.enqueue(slot, unit, now);
            }
            _ => spec.counts.add(status, 1),
        }
    }

    /// Adds or updates a unit with AddWorkUnit semantics; returns its slot.
    pub fn put_unit(
        &mut self,
        spec_id: Id,
        name: &str,
        data: Map,
        meta: WorkUnitMeta,
        now: Time,
    ) -> Result<Slot> {
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        if let Some(&slot) = spec.names.get(name) {
            let pending = spec
                .unit(slot)
                .and_then(|u| u.active)
                .and_then(|a| self.attempts.get(&a))
                .is_some_and(|a| a.status == AttemptStatus::Pending);
            if !pending {
                // Queued, finished or failed: re-queue it; history is kept.
                spec.release(slot, &self.attempts);
            }
            let unit = slot_mut(&mut spec.units, slot).ok_or(Error::Gone)?;
            unit.data = data;
            unit.priority = priority(meta.priority);
            unit.not_before = meta.not_before;
            if !pending {
                unit.active = None;
                spec.queues.enqueue(slot, unit, now);
            }
            return Ok(slot);
        }
        let id = self.fresh_id();
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        let name: Arc<str> = Arc::from(name);
        let unit = UnitState {
            id,
            name: name.clone(),
            data,
            priority: priority(meta.priority),
            not_before: meta.not_before,
            active: None,
            last_attempt: None,
            num_attempts: 0,
        };
        let slot = spec.take_slot()?;
        spec.queues.enqueue(slot, &unit, now);
        spec.units[slot as usize] = Some(unit);
        spec.names.insert(name, slot);
        Ok(slot)
    }

    /// Adds or updates many units, with the result of `put_unit` on each item
    /// in order (for a name given twice, the later item wins). When the new
    /// names are many compared with the spec's units, they are merged into
    /// the indexes in one linear pass (B-tree bulk build), which is faster
    /// than one insert each and leaves the index nodes full.
    pub fn put_units(
        &mut self,
        spec_id: Id,
        mut items: Vec<AddWorkUnitItem>,
        now: Time,
    ) -> Result<usize> {
        let n = items.len();
        let existing = self.spec(spec_id)?.names.len();
        if n < 64 || n < existing / 4 {
            for item in items {
                self.put_unit(spec_id, &item.key, item.data, item.meta, now)?;
            }
            return Ok(n);
        }
        // Stable sort, then keep the last item of each name.
        items.sort_by(|a, b| a.key.cmp(&b.key));
        let mut last: Vec<AddWorkUnitItem> = Vec::with_capacity(items.len());
        for item in items {
            match last.last_mut() {
                Some(prev) if prev.key == item.key => *prev = item,
                _ => last.push(item),
            }
        }
        let mut fresh = Vec::with_capacity(last.len());
        for item in last {
            if existing > 0 && self.spec(spec_id)?.names.contains_key(item.key.as_str()) {
                self.put_unit(spec_id, &item.key, item.data, item.meta, now)?;
            } else {
                fresh.push(item);
            }
        }
        let first_id = self.next_id;
        self.next_id += fresh.len() as u64;
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        spec.units
            .reserve(fresh.len().saturating_sub(spec.free.len()));
        let mut names = Vec::with_capacity(fresh.len());
        let mut available = Vec::with_capacity(fresh.len());
        let mut delayed = Vec::new();
        for (i, item) in fresh.into_iter().enumerate() {
            let name: Arc<str> = Arc::from(item.key);
            let unit = UnitState {
                id: first_id + i as u64,
                name: name.clone(),
                data: item.data,
                priority: priority(item.meta.priority),
                not_before: item.meta.not_before,
                active: None,
                last_attempt: None,
                num_attempts: 0,
            };
            let slot = spec.take_slot()?;
            match unit.not_before {
                Some(nb) if now < nb => delayed.push((nb, slot)),
                _ => available.push((QueuePriority(unit.priority), name.clone(), slot)),
            }
            spec.units[slot as usize] = Some(unit);
            names.push((name, slot));
        }
        // Inputs are sorted (or sorted here), so each collect is a bulk build.
        available.sort_unstable();
        delayed.sort_unstable();
        spec.names.append(&mut names.into_iter().collect());
        spec.queues
            .available
            .append(&mut available.into_iter().collect());
        spec.queues
            .delayed
            .append(&mut delayed.into_iter().collect());
        let q = &mut spec.queues;
        q.placed_at = Some(q.placed_at.map_or(now, |t| t.max(now)));
        Ok(n)
    }

    /// Creates a Pending attempt of `worker` on the unit, displacing any
    /// active attempt without changing it; returns the attempt id.
    pub fn start_attempt(
        &mut self,
        spec_id: Id,
        slot: Slot,
        worker: Id,
        lifetime: TimeDelta,
        now: Time,
    ) -> Result<Id> {
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        spec.release(slot, &self.attempts);
        self.attach_attempt(spec_id, slot, worker, lifetime, now)
    }

    /// `start_attempt` for a unit already released from its queue or attempt.
    pub fn attach_attempt(
        &mut self,
        spec_id: Id,
        slot: Slot,
        worker: Id,
        lifetime: TimeDelta,
        now: Time,
    ) -> Result<Id> {
        let id = self.attempts.next_id();
        let w = self.workers.get_mut(&worker).ok_or(Error::Gone)?;
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        let unit = slot_mut(&mut spec.units, slot).ok_or(Error::Gone)?;
        w.active_attempts.insert(id);
        w.all_attempts.push(id);
        let expiration = add(now, lifetime);
        let prev = unit.last_attempt.replace(id);
        unit.active = Some(id);
        unit.num_attempts += 1;
        spec.counts.pending += 1;
        spec.expiring.insert((expiration, id));
        let data = unit.data.clone();
        self.attempts.push(AttemptState {
            spec: spec_id,
            unit: slot,
            prev,
            worker,
            status: AttemptStatus::Pending,
            data,
            start: now,
            end: None,
            expiration,
        });
        Ok(id)
    }

    /// Removes a unit and its attempts.
    pub fn remove_unit(&mut self, spec_id: Id, slot: Slot) {
        let Some(spec) = self.specs.get_mut(&spec_id) else {
            return;
        };
        spec.release(slot, &self.attempts);
        let Some(unit) = spec.units.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        spec.names.remove(&unit.name);
        spec.free.push(slot);
        self.remove_attempts(unit.last_attempt);
    }

    /// Removes an attempt and every older one of its unit.
    fn remove_attempts(&mut self, mut next: Option<Id>) {
        while let Some(id) = next {
            let Some(att) = self.attempts.remove(&id) else {
                return;
            };
            if let Some(w) = self.workers.get_mut(&att.worker) {
                w.active_attempts.remove(&id);
            }
            next = att.prev;
        }
    }

    /// The unit's attempts, oldest first.
    pub fn unit_attempts(&self, unit: &UnitState) -> Vec<Id> {
        let mut ids = Vec::with_capacity(unit.num_attempts as usize);
        let mut next = unit.last_attempt;
        while let Some(id) = next {
            ids.push(id);
            next = self.attempts.get(&id).and_then(|a| a.prev);
        }
        ids.reverse();
        ids
    }

    /// Detaches the unit's active attempt (which keeps its status) and
    /// queues the unit again.
    pub fn clear_active(&mut self, spec_id: Id, slot: Slot, now: Time) -> Result<()> {
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        if spec.unit(slot).is_none_or(|u| u.active.is_none()) {
            return Ok(());
        }
        spec.release(slot, &self.attempts);
        if let Some(unit) = slot_mut(&mut spec.units, slot) {
            unit.active = None;
            spec.queues.enqueue(slot, unit, now);
        }
        Ok(())
    }

    /// Removes a spec, its units and their attempts.
    pub fn remove_spec(&mut self, spec_id: Id) {
        let Some(spec) = self.specs.remove(&spec_id) else {
            return;
        };
        for unit in spec.units.into_iter().flatten() {
            self.remove_attempts(unit.last_attempt);
        }
        if let Some(ns) = self.namespaces.get_mut(&spec.ns) {
            if ns.specs.get(&spec.name) == Some(&spec_id) {
                ns.specs.remove(&spec.name);
            }
        }
    }

    /// The spec's meta, with counts when asked (the caller sweeps first).
    pub fn meta(&self, spec_id: Id, with_counts: bool) -> Result<WorkSpecMeta> {
        let spec = self.spec(spec_id)?;
        let mut meta = spec.meta.clone();
        if !with_counts {
            meta.available_count = 0;
            meta.pending_count = 0;
        }
        Ok(meta)
    }

    /// Non-zero counts by unit status (the caller sweeps first).
    pub fn status_counts(&self, spec_id: Id) -> Result<Vec<(WorkUnitStatus, i64)>> {
        let spec = self.spec(spec_id)?;
        let q = &spec.queues;
        Ok([
            (WorkUnitStatus::Available, q.available.len() as i64),
            (WorkUnitStatus::Pending, spec.counts.pending),
            (WorkUnitStatus::Finished, spec.counts.finished),
            (WorkUnitStatus::Failed, spec.counts.failed),
            (WorkUnitStatus::Delayed, q.delayed.len() as i64),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect())
    }
}
