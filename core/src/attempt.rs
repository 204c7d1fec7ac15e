//! Attempts: one worker's lease on one work unit.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::add;
use crate::coordinate::Coordinate;
use crate::error::{Error, Result};
use crate::extract::extract_work_unit_output;
use crate::state::{AttemptState, Id, State, Time};
use crate::status::AttemptStatus;
use crate::value::Map;
use crate::work_spec::WorkSpec;
use crate::work_unit::WorkUnit;
use crate::worker::Worker;

/// A lease of one work unit by one worker, which expires unless renewed and
/// ends when it is finished, failed, retried or expired.
#[derive(Clone)]
pub struct Attempt {
    unit: WorkUnit,
    worker: Worker,
    pub(crate) id: Id,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attempt({:?}/{:?} by {:?})",
            self.unit.work_spec().name(),
            self.unit.name(),
            self.worker.name()
        )
    }
}

impl PartialEq for Attempt {
    fn eq(&self, other: &Self) -> bool {
        self.unit.spec.ns.coord == other.unit.spec.ns.coord && self.id == other.id
    }
}
impl Eq for Attempt {}

impl std::hash::Hash for Attempt {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl Attempt {
    /// A handle for attempt `id`, if it still exists.
    pub(crate) fn from_state(st: &State, coord: &Coordinate, id: Id) -> Option<Attempt> {
        let att = st.attempts.get(&id)?;
        let spec = st.specs.get(&att.spec)?;
        let ns = st.namespaces.get(&spec.ns)?;
        let worker = st.workers.get(&att.worker)?;
        let unit = spec.unit(att.unit)?;
        let ns_handle = coord.namespace_handle(spec.ns, ns.name.clone());
        let spec_handle = WorkSpec::new(ns_handle.clone(), att.spec, spec.name.clone());
        let worker_ns = match st.namespaces.get(&worker.ns) {
            Some(wns) if worker.ns != spec.ns => {
                coord.namespace_handle(worker.ns, wns.name.clone())
            }
            _ => ns_handle,
        };
        Some(Attempt {
            unit: WorkUnit::new(spec_handle, unit, att.unit),
            worker: Worker::new(worker_ns, att.worker, worker.name.clone()),
            id,
        })
    }

    fn coord(&self) -> &Coordinate {
        self.unit.spec.coord()
    }

    fn read<T>(&self, sweep: bool, f: impl FnOnce(&AttemptState) -> T) -> Result<T> {
        self.coord().with(|st, now| {
            let spec = st.attempt(self.id)?.spec;
            if sweep {
                st.sweep(spec, now);
            }
            Ok(f(st.attempt(self.id)?))
        })
    }

    /// The work unit this attempt is for.
    pub fn work_unit(&self) -> &WorkUnit {
        &self.unit
    }

    /// The worker holding this attempt.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The attempt's status (expired leases are observed first).
    pub fn status(&self) -> Result<AttemptStatus> {
        self.read(true, |a| a.status)
    }

    /// The attempt's data: a copy of the unit's data, as last replaced.
    pub fn data(&self) -> Result<Map> {
        self.read(false, |a| a.data.clone())
    }

    /// When the attempt started.
    pub fn start_time(&self) -> Result<DateTime<Utc>> {
        self.read(false, |a| a.start)
    }

    /// When the attempt left Pending; `None` while pending.
    pub fn end_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.read(true, |a| a.end)
    }

    /// When the lease runs out.
    pub fn expiration_time(&self) -> Result<DateTime<Utc>> {
        self.read(true, |a| a.expiration)
    }

    /// Extends the lease to `now + extend_duration`, replacing the data if given.
    /// An attempt that is no longer active is expired instead, with `LostLease`.
    pub fn renew(&self, extend_duration: TimeDelta, data: Option<Map>) -> Result<()> {
        self.coord().with(|st, now| {
            let att = st.attempt(self.id)?;
            let (spec_id, slot, old_exp) = (att.spec, att.unit, att.expiration);
            match att.status {
                AttemptStatus::Pending | AttemptStatus::Expired => {}
                _ => return Err(Error::NotPending),
            }
            let spec = st.spec_mut(spec_id)?;
            let active = spec.unit(slot).and_then(|u| u.active) == Some(self.id);
            if !active {
                st.complete(self.id, AttemptStatus::Expired, data, now);
                return Err(Error::LostLease);
            }
            let expiration = add(now, extend_duration);
            spec.expiring.remove(&(old_exp, self.id));
            spec.expiring.insert((expiration, self.id));
            let att = st.attempts.get_mut(&self.id).ok_or(Error::Gone)?;
            att.expiration = expiration;
            if let Some(data) = data {
                att.data = data;
            }
            Ok(())
        })
    }

    /// Gives up the lease: the unit becomes available again. Expiring an
    /// expired attempt does nothing.
    pub fn expire(&self, data: Option<Map>) -> Result<()> {
        self.coord()
            .with(|st, now| match st.attempt(self.id)?.status {
                AttemptStatus::Pending => {
                    st.complete(self.id, AttemptStatus::Expired, data, now);
                    Ok(())
                }
                AttemptStatus::Expired => Ok(()),
                _ => Err(Error::NotPending),
            })
    }

    /// Marks the work done, replacing the data if given; if the attempt is
    /// still active and its spec has a `then`, the `output` key of the data
    /// becomes units of that spec. A failed attempt may still finish.
    pub fn finish(&self, data: Option<Map>) -> Result<()> {
        self.coord().with(|st, now| {
            match st.attempt(self.id)?.status {
                AttemptStatus::Pending | AttemptStatus::Failed => {}
                _ => return Err(Error::NotPending),
            }
            st.complete(self.id, AttemptStatus::Finished, data, now);
            chain(st, self.id, now)
        })
    }

    /// Marks the work failed for good, replacing the data if given.
    pub fn fail(&self, data: Option<Map>) -> Result<()> {
        self.coord()
            .with(|st, now| match st.attempt(self.id)?.status {
                AttemptStatus::Pending => {
                    st.complete(self.id, AttemptStatus::Failed, data, now);
                    Ok(())
                }
                _ => Err(Error::NotPending),
            })
    }

    /// Gives the unit back to be tried again after `delay`, replacing the data if given.
    pub fn retry(&self, data: Option<Map>, delay: TimeDelta) -> Result<()> {
        self.coord().with(|st, now| {
            let att = st.attempt(self.id)?;
            if att.status != AttemptStatus::Pending {
                return Err(Error::NotPending);
            }
            let (spec_id, slot) = (att.spec, att.unit);
            if let Some(u) = st.spec_mut(spec_id)?.unit_mut(slot) {
                if u.active == Some(self.id) {
                    u.not_before = Some(add(now, delay));
                }
            }
            st.complete(self.id, AttemptStatus::Retryable, data, now);
            Ok(())
        })
    }
}

/// Adds the finished attempt's `output` to its spec's `then` spec, if the
/// attempt is still its unit's active attempt.
fn chain(st: &mut State, id: Id, now: Time) -> Result<()> {
    let att = st.attempt(id)?;
    let spec = st.spec(att.spec)?;
    if spec.unit(att.unit).and_then(|u| u.active) != Some(id) {
        return Ok(());
    }
    let Some(output) = att.data.get("output") else {
        return Ok(());
    };
    let next = &spec.meta.next_work_spec_name;
    if next.is_empty() {
        return Ok(());
    }
    let Some(&next_id) = st.ns(spec.ns)?.specs.get(next.as_str()) else {
        return Ok(());
    };
    for item in extract_work_unit_output(output, now).into_values() {
        st.put_unit(next_id, &item.key, item.data, item.meta, now)?;
    }
    Ok(())
}
