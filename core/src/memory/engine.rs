//! Every change to the memory engine's indexes: sweeping expired leases
//! and due delays, completing attempts, adding, re-queueing and removing
//! units, starting attempts, queries. Handles and operations call these and
//! never touch an index themselves.

use std::ops::Bound;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::backend::Id;
use crate::clock::add;
use crate::error::{Error, Result};
use crate::meta::{AddWorkUnitItem, Retention, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery};
use crate::rules;
use crate::status::{AttemptStatus, WorkUnitStatus};
use crate::value::Map;

use super::attempts::AttemptState;
use super::capacity::{data_bytes, delta, object_bytes};
use super::spec::{slot_mut, QueuePriority, Slot, UnitState};
use super::{State, Time};

impl State {
    /// The status of a unit at `now`, assuming its spec was swept.
    pub fn unit_status(&self, unit: &UnitState, now: Time) -> WorkUnitStatus {
        let active = unit
            .active
            .and_then(|a| self.attempts.get(&a))
            .map(|a| a.status);
        rules::unit_status(active, unit.not_before, now)
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
            self.usage
                .apply(0, delta(data_bytes(&att.data), data_bytes(&data)));
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
    /// Refused with `Capacity`, changing nothing, past the store's bounds.
    pub fn put_unit(
        &mut self,
        spec_id: Id,
        name: &str,
        data: Map,
        meta: WorkUnitMeta,
        now: Time,
    ) -> Result<Slot> {
        let (units, bytes) = self.put_cost(spec_id, name, &data)?;
        self.usage.admit(&self.limits, units, bytes)?;
        self.put_unit_unchecked(spec_id, name, data, meta, now)
    }

    /// What adding or updating the unit `name` with `data` changes in the
    /// store's usage: `(units, bytes)`.
    pub fn put_cost(&self, spec_id: Id, name: &str, data: &Map) -> Result<(i64, i64)> {
        Ok(match self.spec(spec_id)?.named(name) {
            Some((_, u)) => (0, delta(data_bytes(&u.data), data_bytes(data))),
            None => (1, delta(0, object_bytes(data))),
        })
    }

    /// The summed `put_cost` of items with distinct names.
    fn put_costs(&self, spec_id: Id, items: &[AddWorkUnitItem]) -> Result<(i64, i64)> {
        let (mut units, mut bytes) = (0i64, 0i64);
        for item in items {
            let (u, b) = self.put_cost(spec_id, &item.key, &item.data)?;
            units = units.saturating_add(u);
            bytes = bytes.saturating_add(b);
        }
        Ok((units, bytes))
    }

    /// Refuses a new attempt on the unit in `slot` that would pass the bounds.
    pub fn admit_attempt(&self, spec_id: Id, slot: Slot) -> Result<()> {
        let unit = self.spec(spec_id)?.unit(slot).ok_or(Error::Gone)?;
        self.usage
            .admit(&self.limits, 0, delta(0, object_bytes(&unit.data)))
    }

    /// Refuses replacing the attempt's data with `data` past the bounds.
    fn admit_data(&self, id: Id, data: Option<&Map>) -> Result<()> {
        match data {
            Some(data) => {
                let old = data_bytes(&self.attempt(id)?.data);
                self.usage
                    .admit(&self.limits, 0, delta(old, data_bytes(data)))
            }
            None => Ok(()),
        }
    }

    /// `put_unit` without the capacity check (the caller admitted the change).
    fn put_unit_unchecked(
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
            self.usage
                .apply(0, delta(data_bytes(&unit.data), data_bytes(&data)));
            unit.data = data;
            unit.priority = rules::unit_priority(meta.priority);
            unit.not_before = meta.not_before;
            if !pending {
                unit.active = None;
                spec.queues.enqueue(slot, unit, now);
            }
            return Ok(slot);
        }
        let (slot, id) = spec.take_slot()?;
        self.usage.apply(1, delta(0, object_bytes(&data)));
        let name: Arc<str> = Arc::from(name);
        let unit = UnitState {
            id,
            name: name.clone(),
            data,
            priority: rules::unit_priority(meta.priority),
            not_before: meta.not_before,
            active: None,
            last_attempt: None,
            num_attempts: 0,
        };
        spec.queues.enqueue(slot, &unit, now);
        spec.units[slot as usize] = Some(unit);
        spec.names.insert(name, slot);
        Ok(slot)
    }

    /// Adds or updates many units, with the result of `put_unit` on each item
    /// in order (for a name given twice, the later item wins); returns how
    /// many distinct units were added or updated. All or nothing: past the
    /// store's bounds the call is refused with `Capacity` and changes nothing.
    /// When the new names are many compared with the spec's units, they are
    /// merged into the indexes in one linear pass (B-tree bulk build), which
    /// is faster than one insert each and leaves the index nodes full.
    pub fn put_units(
        &mut self,
        spec_id: Id,
        items: Vec<AddWorkUnitItem>,
        now: Time,
    ) -> Result<usize> {
        let existing = self.spec(spec_id)?.names.len();
        let small = items.len() < 64 || items.len() < existing / 4;
        let last = if small {
            rules::last_of_each_name(items)
        } else {
            // Stable sort, then keep the last item of each name.
            let mut items = items;
            items.sort_by(|a, b| a.key.cmp(&b.key));
            let mut last: Vec<AddWorkUnitItem> = Vec::with_capacity(items.len());
            for item in items {
                match last.last_mut() {
                    Some(prev) if prev.key == item.key => *prev = item,
                    _ => last.push(item),
                }
            }
            last
        };
        let n = last.len();
        // Unbounded (the native default): nothing to admit, no lookups.
        if self.limits.max_units != u64::MAX || self.limits.max_bytes != u64::MAX {
            let (units, bytes) = self.put_costs(spec_id, &last)?;
            self.usage.admit(&self.limits, units, bytes)?;
        }
        if small {
            for item in last {
                self.put_unit_unchecked(spec_id, &item.key, item.data, item.meta, now)?;
            }
            return Ok(n);
        }
        let mut fresh = Vec::with_capacity(last.len());
        for item in last {
            if existing > 0 && self.spec(spec_id)?.names.contains_key(item.key.as_str()) {
                self.put_unit_unchecked(spec_id, &item.key, item.data, item.meta, now)?;
            } else {
                fresh.push(item);
            }
        }
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        spec.units
            .reserve(fresh.len().saturating_sub(spec.free.len()));
        let mut names = Vec::with_capacity(fresh.len());
        let mut available = Vec::with_capacity(fresh.len());
        let mut delayed = Vec::new();
        for item in fresh {
            let (slot, id) = spec.take_slot()?;
            self.usage.apply(1, delta(0, object_bytes(&item.data)));
            let name: Arc<str> = Arc::from(item.key);
            let unit = UnitState {
                id,
                name: name.clone(),
                data: item.data,
                priority: rules::unit_priority(item.meta.priority),
                not_before: item.meta.not_before,
                active: None,
                last_attempt: None,
                num_attempts: 0,
            };
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
    /// active attempt without changing it; returns the attempt id and the
    /// unit's number of attempts.
    pub fn start_attempt(
        &mut self,
        spec_id: Id,
        slot: Slot,
        worker: Id,
        lifetime: TimeDelta,
        now: Time,
    ) -> Result<(Id, u64)> {
        self.admit_attempt(spec_id, slot)?;
        self.workers.get(&worker).ok_or(Error::Gone)?;
        let spec = self.specs.get_mut(&spec_id).ok_or(Error::Gone)?;
        spec.release(slot, &self.attempts);
        self.attach_attempt(spec_id, slot, worker, lifetime, now)
    }

    /// `start_attempt` for a unit already released from its queue or attempt
    /// (the caller admitted the attempt's bytes). Drops the unit's oldest
    /// attempts past its spec's `keep_attempts`.
    pub fn attach_attempt(
        &mut self,
        spec_id: Id,
        slot: Slot,
        worker: Id,
        lifetime: TimeDelta,
        now: Time,
    ) -> Result<(Id, u64)> {
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
        let num_attempts = u64::from(unit.num_attempts);
        spec.counts.pending += 1;
        spec.expiring.insert((expiration, id));
        let data = unit.data.clone();
        let keep = spec.retention.keep_attempts;
        self.usage.apply(0, delta(0, object_bytes(&data)));
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
        if keep > 0 && num_attempts > u64::from(keep) {
            self.drop_old_attempts(id, keep);
        }
        Ok((id, num_attempts))
    }

    /// Keeps the `keep` newest attempts of the chain that ends at `newest`
    /// and removes the older ones (whatever their status; their handles
    /// then answer `Gone`).
    fn drop_old_attempts(&mut self, newest: Id, keep: u32) {
        let mut at = newest;
        for _ in 1..keep {
            match self.attempts.get(&at).and_then(|a| a.prev) {
                Some(prev) => at = prev,
                None => return,
            }
        }
        let older = self.attempts.get_mut(&at).and_then(|a| a.prev.take());
        self.remove_attempts(older);
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
        self.usage.apply(-1, delta(object_bytes(&unit.data), 0));
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
            self.usage.apply(0, delta(object_bytes(&att.data), 0));
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
            self.usage.apply(-1, delta(object_bytes(&unit.data), 0));
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

    // ---- Attempt transitions (SEMANTICS §3.4.3) ----

    /// Extends the lease to `now + extend`, replacing the data if given. An
    /// attempt that is no longer active is expired instead, with `LostLease`.
    pub fn renew(&mut self, id: Id, extend: TimeDelta, data: Option<Map>, now: Time) -> Result<()> {
        let att = self.attempt(id)?;
        let (spec_id, slot, old_exp) = (att.spec, att.unit, att.expiration);
        match att.status {
            AttemptStatus::Pending | AttemptStatus::Expired => {}
            _ => return Err(Error::NotPending),
        }
        self.admit_data(id, data.as_ref())?;
        let spec = self.spec_mut(spec_id)?;
        if spec.unit(slot).and_then(|u| u.active) != Some(id) {
            self.complete(id, AttemptStatus::Expired, data, now);
            return Err(Error::LostLease);
        }
        let expiration = add(now, extend);
        spec.expiring.remove(&(old_exp, id));
        spec.expiring.insert((expiration, id));
        let att = self.attempts.get_mut(&id).ok_or(Error::Gone)?;
        att.expiration = expiration;
        if let Some(data) = data {
            self.usage
                .apply(0, delta(data_bytes(&att.data), data_bytes(&data)));
            att.data = data;
        }
        Ok(())
    }

    /// Gives up the lease; expiring an expired attempt does nothing.
    pub fn expire(&mut self, id: Id, data: Option<Map>, now: Time) -> Result<()> {
        match self.attempt(id)?.status {
            AttemptStatus::Pending => {
                self.admit_data(id, data.as_ref())?;
                self.complete(id, AttemptStatus::Expired, data, now);
                Ok(())
            }
            AttemptStatus::Expired => Ok(()),
            _ => Err(Error::NotPending),
        }
    }

    /// Finishes a pending (or failed) attempt and chains its output, all
    /// under the one lock. All or nothing: when the new data and the chained
    /// units together would pass the store's bounds, `Capacity` and no change.
    pub fn finish(&mut self, id: Id, data: Option<Map>, now: Time) -> Result<()> {
        let att = self.attempt(id)?;
        match att.status {
            AttemptStatus::Pending | AttemptStatus::Failed => {}
            _ => return Err(Error::NotPending),
        }
        let chained = self.chained(id, data.as_ref(), now)?;
        let (mut units, mut bytes) = (0, 0);
        if let Some(data) = &data {
            bytes = delta(data_bytes(&att.data), data_bytes(data));
        }
        if let Some((next, items)) = &chained {
            let (u, b) = self.put_costs(*next, items)?;
            units += u;
            bytes = bytes.saturating_add(b);
        }
        self.usage.admit(&self.limits, units, bytes)?;
        self.complete(id, AttemptStatus::Finished, data, now);
        if let Some((next, items)) = chained {
            for item in items {
                self.put_unit_unchecked(next, &item.key, item.data, item.meta, now)?;
            }
        }
        Ok(())
    }

    /// Fails a pending attempt for good.
    pub fn fail(&mut self, id: Id, data: Option<Map>, now: Time) -> Result<()> {
        match self.attempt(id)?.status {
            AttemptStatus::Pending => {
                self.admit_data(id, data.as_ref())?;
                self.complete(id, AttemptStatus::Failed, data, now);
                Ok(())
            }
            _ => Err(Error::NotPending),
        }
    }

    /// Gives the unit back to be tried again after `delay`.
    pub fn retry(&mut self, id: Id, data: Option<Map>, delay: TimeDelta, now: Time) -> Result<()> {
        let att = self.attempt(id)?;
        if att.status != AttemptStatus::Pending {
            return Err(Error::NotPending);
        }
        let (spec_id, slot) = (att.spec, att.unit);
        self.admit_data(id, data.as_ref())?;
        if let Some(u) = self.spec_mut(spec_id)?.unit_mut(slot) {
            if u.active == Some(id) {
                u.not_before = Some(add(now, delay));
            }
        }
        self.complete(id, AttemptStatus::Retryable, data, now);
        Ok(())
    }

    /// The units finishing the attempt with `data` (or its own data) chains
    /// into its spec's `then` spec, if the attempt is its unit's active
    /// attempt: the `then` spec's id and the items (distinct names).
    fn chained(
        &self,
        id: Id,
        data: Option<&Map>,
        now: Time,
    ) -> Result<Option<(Id, Vec<AddWorkUnitItem>)>> {
        let att = self.attempt(id)?;
        let spec = self.spec(att.spec)?;
        if spec.unit(att.unit).and_then(|u| u.active) != Some(id) {
            return Ok(None);
        }
        let data = data.unwrap_or(&att.data);
        let Some((next, items)) = rules::chained_units(&spec.meta, data, now) else {
            return Ok(None);
        };
        let Some(&next_id) = self.ns(spec.ns)?.specs.get(next) else {
            return Ok(None);
        };
        Ok(Some((next_id, items)))
    }

    // ---- Queries and unit changes ----

    /// The slots of the units a query selects, by name (after sweeping the spec).
    pub fn select(&mut self, spec_id: Id, q: &WorkUnitQuery, now: Time) -> Result<Vec<Slot>> {
        self.spec(spec_id)?;
        self.sweep(spec_id, now);
        let st = &*self;
        let spec = st.spec(spec_id)?;
        let limit = q.max_units();
        let status_ok = |unit| q.statuses.is_none() || q.admits_status(st.unit_status(unit, now));
        let mut out = Vec::new();
        match q.sorted_names() {
            Some(names) => {
                for name in names {
                    if out.len() >= limit {
                        break;
                    }
                    if let Some((slot, unit)) = spec.named(name) {
                        if q.admits_name(name) && status_ok(unit) {
                            out.push(slot);
                        }
                    }
                }
            }
            None => {
                let start = if q.previous_name.is_empty() {
                    Bound::Unbounded
                } else {
                    Bound::Excluded(q.previous_name.as_str())
                };
                for (_, &slot) in spec.names.range::<str, _>((start, Bound::Unbounded)) {
                    if out.len() >= limit {
                        break;
                    }
                    if spec.unit(slot).is_some_and(status_ok) {
                        out.push(slot);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Changes the priority of every selected unit to `f(old)`.
    pub fn reprioritize(
        &mut self,
        spec_id: Id,
        q: &WorkUnitQuery,
        now: Time,
        f: impl Fn(f64) -> f64,
    ) -> Result<()> {
        let selected = self.select(spec_id, q, now)?;
        let spec = self.spec_mut(spec_id)?;
        for slot in selected {
            spec.requeue(slot, now, |unit| {
                unit.priority = rules::unit_priority(f(unit.priority))
            });
        }
        Ok(())
    }

    /// Replaces a unit's priority and, when given, its not-before time,
    /// keeping it at the right place in its spec's queues.
    pub fn set_unit_meta(
        &mut self,
        spec_id: Id,
        slot: Slot,
        priority: f64,
        not_before: Option<Option<Time>>,
        now: Time,
    ) -> Result<()> {
        self.spec_mut(spec_id)?.requeue(slot, now, |unit| {
            unit.priority = rules::unit_priority(priority);
            if let Some(nb) = not_before {
                unit.not_before = nb;
            }
        });
        Ok(())
    }

    /// Deletes the selected units and their attempts; returns how many.
    pub fn delete_units(&mut self, spec_id: Id, q: &WorkUnitQuery, now: Time) -> Result<u64> {
        let selected = self.select(spec_id, q, now)?;
        let n = selected.len() as u64;
        for slot in selected {
            self.remove_unit(spec_id, slot);
        }
        Ok(n)
    }

    // ---- Specs, namespaces and workers ----

    /// Creates or updates the spec named by `data["name"]` in `ns`.
    pub fn set_work_spec(&mut self, ns: Id, data: Map) -> Result<Id> {
        // A dead namespace answers Gone before the data is validated (§1.4).
        self.ns(ns)?;
        let (name, meta) = crate::meta::extract_work_spec_meta(&data)?;
        let retention = Retention::from_data(&data)?;
        let existing = self.ns(ns)?.specs.get(name.as_str()).copied();
        match existing {
            Some(id) => {
                let spec = self.spec_mut(id)?;
                spec.data = data;
                spec.meta = meta;
                spec.retention = retention;
                Ok(id)
            }
            None => {
                let id = self.fresh_id();
                let key: Arc<str> = Arc::from(name.as_str());
                self.specs.insert(
                    id,
                    super::spec::SpecState::new(ns, key.clone(), data, meta, retention),
                );
                self.namespaces
                    .get_mut(&ns)
                    .ok_or(Error::Gone)?
                    .specs
                    .insert(key, id);
                Ok(id)
            }
        }
    }

    /// Replaces a spec's data and meta; the name may not change.
    pub fn set_spec_data(&mut self, id: Id, data: Map) -> Result<()> {
        // A dead spec answers Gone before its argument is looked at (§1.4).
        let spec = self.spec_mut(id)?;
        let (name, meta) = crate::meta::extract_work_spec_meta(&data)?;
        if *name != *spec.name {
            return Err(Error::ChangedName);
        }
        spec.retention = Retention::from_data(&data)?;
        spec.data = data;
        spec.meta = meta;
        Ok(())
    }

    /// Deletes a namespace with its specs, units, attempts and workers.
    pub fn destroy_namespace(&mut self, id: Id) {
        let Some(ns) = self.namespaces.remove(&id) else {
            return;
        };
        for spec in ns.specs.values() {
            self.remove_spec(*spec);
        }
        // Parent links may cross namespaces: a surviving worker whose parent
        // dies becomes a root, and a surviving parent forgets its dead children.
        for worker in ns.workers.values() {
            let Some(w) = self.workers.remove(worker) else {
                continue;
            };
            for child in w.children {
                if let Some(c) = self.workers.get_mut(&child) {
                    if c.parent == Some(*worker) {
                        c.parent = None;
                    }
                }
            }
            if let Some(p) = w.parent.and_then(|p| self.workers.get_mut(&p)) {
                p.children.remove(worker);
            }
        }
        if self.ns_by_name.get(&ns.name) == Some(&id) {
            self.ns_by_name.remove(&ns.name);
        }
    }

    /// Moves a worker under `parent`, or makes it a root; a worker as its
    /// own parent or under its own descendant is `InvalidArgument`.
    pub fn set_parent(&mut self, id: Id, parent: Option<Id>) -> Result<()> {
        self.worker(id)?;
        if let Some(p) = parent {
            self.worker(p)?;
        }
        rules::check_parent(id, parent, |w| -> Result<Option<Id>> {
            Ok(self.workers.get(&w).and_then(|x| x.parent))
        })?;
        let old = self.worker(id)?.parent;
        if old == parent {
            return Ok(());
        }
        if let Some(old) = old.and_then(|o| self.workers.get_mut(&o)) {
            old.children.remove(&id);
        }
        if let Some(new) = parent.and_then(|n| self.workers.get_mut(&n)) {
            new.children.insert(id);
        }
        self.worker_mut(id)?.parent = parent;
        Ok(())
    }

    /// Every attempt of the worker whose unit still exists, oldest first
    /// (dropping the ids of deleted attempts from its list).
    pub fn all_attempts(&mut self, id: Id) -> Result<Vec<Id>> {
        let attempts = &self.attempts;
        let w = self.workers.get_mut(&id).ok_or(Error::Gone)?;
        w.all_attempts.retain(|a| attempts.contains_key(a));
        Ok(w.all_attempts.clone())
    }

    /// Unit counts by status of one spec (swept first).
    pub fn summarize_spec(&mut self, spec: Id, now: Time) -> crate::meta::Summary {
        self.sweep(spec, now);
        let (Ok(counts), Ok(spec_state)) = (self.status_counts(spec), self.spec(spec)) else {
            return Vec::new();
        };
        let namespace = self
            .ns(spec_state.ns)
            .map(|n| n.name.to_string())
            .unwrap_or_default();
        counts
            .into_iter()
            .map(|(status, count)| crate::meta::SummaryRecord {
                namespace: namespace.clone(),
                work_spec: spec_state.name.to_string(),
                status,
                count,
            })
            .collect()
    }

    /// Unit counts by spec and status of one namespace.
    pub fn summarize_ns(&mut self, ns: Id, now: Time) -> crate::meta::Summary {
        let Ok(ns_state) = self.ns(ns) else {
            return Vec::new();
        };
        let specs: Vec<Id> = ns_state.specs.values().copied().collect();
        specs
            .into_iter()
            .flat_map(|spec| self.summarize_spec(spec, now))
            .collect()
    }
}

/// Attempt ids in creation order.
pub(crate) fn sorted(ids: &super::IdSet) -> Vec<Id> {
    let mut ids: Vec<Id> = ids.iter().copied().collect();
    ids.sort_unstable();
    ids
}
