//! One work spec's units and the indexes over them: the slab of units, the
//! name index, the queues of units with no active attempt, the pending
//! attempts by expiry, and the per-status counters.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::backend::Id;
use crate::error::{Error, Result};
use crate::meta::{Retention, WorkSpecMeta};
use crate::status::AttemptStatus;
use crate::value::Map;

use super::attempts::Attempts;
use super::Time;

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

/// Index of a unit in its spec's slab; stable while the unit lives.
pub(crate) type Slot = u32;

/// A unit's id: its slot in the high 32 bits and the spec's creation count
/// at its creation in the low 32 (so a reused slot never answers an old id).
pub(crate) fn unit_id(slot: Slot, generation: u32) -> Id {
    (u64::from(slot) << 32) | u64::from(generation)
}

/// The slot a unit id names.
pub(crate) fn slot_of(id: Id) -> Slot {
    (id >> 32) as Slot
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

/// Units by the status of their active attempt (queued units are counted
/// by the queues' lengths).
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
    /// The history the spec keeps (from its data).
    pub retention: Retention,
    /// Units by slot; `None` marks a free slot (listed in `free`).
    pub units: Vec<Option<UnitState>>,
    pub free: Vec<Slot>,
    /// How many units were ever created here: the next unit's generation.
    pub created: u32,
    /// Slots by name, in name order (for lookups and queries).
    pub names: BTreeMap<Arc<str>, Slot>,
    pub queues: Queues,
    pub expiring: BTreeSet<(Time, Id)>,
    pub counts: Counts,
}

/// The unit in `slot`, borrowing only the slab (so other fields stay usable).
pub(crate) fn slot_mut(units: &mut [Option<UnitState>], slot: Slot) -> Option<&mut UnitState> {
    units.get_mut(slot as usize).and_then(Option::as_mut)
}

impl SpecState {
    pub fn new(
        ns: Id,
        name: Arc<str>,
        data: Map,
        meta: WorkSpecMeta,
        retention: Retention,
    ) -> Self {
        SpecState {
            ns,
            name,
            data,
            meta,
            retention,
            units: Vec::new(),
            free: Vec::new(),
            created: 0,
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

    /// The live unit whose id is `id`.
    pub fn unit_by_id(&self, id: Id) -> Result<(Slot, &UnitState)> {
        let slot = slot_of(id);
        self.unit(slot)
            .filter(|u| u.id == id)
            .map(|u| (slot, u))
            .ok_or(Error::Gone)
    }

    /// A free slot and a fresh id for a new unit (reusing a deleted unit's
    /// slot first).
    pub fn take_slot(&mut self) -> Result<(Slot, Id)> {
        let full = || Error::BadWorkUnitItem {
            reason: "a work spec creates at most 2^32 work units".into(),
        };
        let generation = self.created;
        self.created = generation.checked_add(1).ok_or_else(full)?;
        if let Some(slot) = self.free.pop() {
            return Ok((slot, unit_id(slot, generation)));
        }
        let slot = Slot::try_from(self.units.len()).map_err(|_| full())?;
        self.units.push(None);
        Ok((slot, unit_id(slot, generation)))
    }

    /// The slot and unit called `name`.
    pub fn named(&self, name: &str) -> Option<(Slot, &UnitState)> {
        let slot = *self.names.get(name)?;
        Some((slot, self.unit(slot)?))
    }

    /// Takes a unit out of whatever accounts for it: its active attempt's
    /// counter and expiry entry, or its queue. The caller re-homes or removes it.
    pub fn release(&mut self, slot: Slot, attempts: &Attempts) {
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
